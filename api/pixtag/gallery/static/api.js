// The public HTTP API, as the gallery uses it: the user's token, problems, listings.
const TOKEN = "pixtag.token";

export function token() {
  return sessionStorage.getItem(TOKEN);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN, value);
  else sessionStorage.removeItem(TOKEN);
}

export function authHeaders(headers = {}) {
  const t = token();
  return t ? { ...headers, Authorization: `Bearer ${t}` } : headers;
}

// One request; the JSON body (or null), the status and the headers. Never throws on a status.
export async function api(method, path, { json, headers = {} } = {}) {
  const init = { method, headers: authHeaders(headers) };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    return { ok: false, status: 0, headers: new Headers(), body: null, message: "The server cannot be reached." };
  }
  const type = response.headers.get("Content-Type") || "";
  const body = type.includes("json") ? await response.json().catch(() => null) : null;
  const message = body && (body.detail || body.error || body.title);
  return { ok: response.ok, status: response.status, headers: response.headers, body, message: message || `${response.status} ${response.statusText}` };
}

// Who the token is. Without access control on the server (no /auth/me) everyone may do everything.
export async function whoAmI() {
  const answer = await api("GET", "/auth/me");
  if (answer.status === 404) {
    return { auth_required: false, authenticated: false, scope: "admin", anonymous_read: true, name: null };
  }
  if (answer.ok) return answer.body;
  return { error: answer.message, status: answer.status, auth_required: true, authenticated: false, scope: null, anonymous_read: false };
}

export function canWrite(me) {
  return me.scope === "write" || me.scope === "admin";
}

// A listing document ([[img...], ..., totals]) as its items and its totals.
export function unpack(document) {
  const totals = document[document.length - 1] || {};
  return { items: document.filter(Array.isArray).flat(), totals };
}

export async function suggestTags(prefix, limit = 10) {
  const answer = await api("GET", `/tags?prefix=${encodeURIComponent(prefix)}&limit=${limit}`);
  return answer.ok ? unpack(answer.body).items : [];
}

// The tags most often found with `tag` ({tag, images} each; `sampled` images were counted).
export async function relatedTags(tag, limit = 10) {
  const answer = await api("GET", `/tags/${encodeURIComponent(tag)}/related?limit=${limit}`);
  return answer.ok ? answer.body : { related: [], sampled: 0 };
}

// Camera or lens names (`fact`: "cameras" or "lenses") starting with `prefix`, as camera: and
// lens: match them.
export async function suggestNames(fact, prefix, limit = 10) {
  const answer = await api("GET", `/metadata/${fact}?prefix=${encodeURIComponent(prefix)}&limit=${limit}`);
  return answer.ok ? answer.body.names : [];
}

// Show the first of `urls` that loads in `img`. Without a token a plain lazy <img src>;
// with one, fetched with the Authorization header (following the 302 to /media) into a blob.
export async function showImage(img, urls) {
  const candidates = urls.filter(Boolean);
  if (!candidates.length) return false;
  if (!token()) {
    let index = 0;
    img.loading = "lazy";
    img.addEventListener("error", () => {
      index += 1;
      if (index < candidates.length) img.src = candidates[index];
    });
    img.src = candidates[0];
    return true;
  }
  for (const url of candidates) {
    try {
      const response = await fetch(url, { headers: authHeaders() });
      if (!response.ok) continue;
      const blob = await response.blob();
      if (!blob.type.startsWith("image/")) continue;
      img.src = URL.createObjectURL(blob);
      return true;
    } catch (error) {
      // the next candidate
    }
  }
  return false;
}

// The URLs to try for a rendition of `image`: the ready one, the on-demand route, the original.
export function renditionUrls(image, preset) {
  const ready = image.renditions && image.renditions[preset];
  const original = image.attachment && image.attachment.url;
  if (!original && !ready) return [];
  return [ready || `/images/${image.image_id}/renditions/${preset}`, original];
}
