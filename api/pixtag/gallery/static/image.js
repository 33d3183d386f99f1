// One image: preview, facts, tags edited in place (If-Match), rename, delete, download, share.
import { api, authHeaders, canWrite, relatedTags, renditionUrls, showImage, token } from "./api.js";
import { openViewer } from "./viewer.js";
import { $, autocomplete, byteSize, notice, readable, start, tagBox, tagEntries, term, timeElement, writing } from "./chrome.js";

const id = Number($("image").dataset.imageId);
const grid = document.body.dataset.grid;
const state = { image: null, etag: null };

function say(text) {
  $("message").textContent = text;
}

function fact(name, value) {
  if (value === null || value === undefined) return [];
  const dt = document.createElement("dt");
  dt.textContent = name;
  const dd = document.createElement("dd");
  dd.append(value);
  return [dt, dd];
}

function size(bytes) {
  return bytes < 1024 ? byteSize(bytes) : `${byteSize(bytes)} (${bytes.toLocaleString()} bytes)`;
}

// "2024-05-01 10:30:15 (UTC+02:00)": the wall clock where it was taken, as the file says.
function takenText(value) {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?$/.exec(value);
  if (!match) return value;
  if (!match[3]) return `${match[1]} ${match[2]}`;
  const zone = ` (UTC${match[3] === "Z" ? "" : match[3]})`;
  const yours = new Date(value).toLocaleString();
  return `${match[1]} ${match[2]}${zone}, ${yours} your time`;
}

function exposureText(exposure) {
  const parts = [];
  if (exposure.focal_length != null) {
    let focal = `${exposure.focal_length} mm`;
    if (exposure.focal_length_35mm && exposure.focal_length_35mm !== exposure.focal_length) focal += ` (${exposure.focal_length_35mm} mm equiv.)`;
    parts.push(focal);
  }
  if (exposure.aperture != null) parts.push(`f/${exposure.aperture}`);
  if (exposure.exposure_time != null) {
    const t = exposure.exposure_time;
    parts.push(t < 1 ? `1/${Math.round(1 / t)} s` : `${t} s`);
  }
  if (exposure.iso != null) parts.push(`ISO ${exposure.iso}`);
  if (exposure.flash) parts.push("flash");
  return parts.join(", ");
}

// What the photo's file says: date taken, camera, lens, exposure, place, keywords.
function photoFacts(metadata) {
  if (!metadata) return [];
  const camera = metadata.camera ? [metadata.camera.make, metadata.camera.model].filter(Boolean) : [];
  // "NIKON CORPORATION" + "NIKON Z 6_2" reads "NIKON Z 6_2"; "Apple" + "iPhone 15 Pro" both.
  const brand = camera.length === 2 ? camera[0].split(" ")[0].toLowerCase() : null;
  const cameraText = brand && camera[1].toLowerCase().startsWith(brand) ? camera[1] : camera.join(" ");
  const location = metadata.location;
  const place = location ? `${location.latitude.toFixed(5)}, ${location.longitude.toFixed(5)}` : null;
  const items = [
    ...fact("Taken", metadata.taken_at ? takenText(metadata.taken_at) : null),
    ...fact("Camera", cameraText || null),
    ...fact("Lens", metadata.lens || null),
    ...fact("Exposure", metadata.exposure ? exposureText(metadata.exposure) || null : null),
  ];
  if (place) {
    const dt = document.createElement("dt");
    dt.textContent = "Location";
    const dd = document.createElement("dd");
    const link = document.createElement("a");
    link.id = "location";
    link.href = `geo:${location.latitude},${location.longitude}`;
    link.textContent = place;
    dd.append(link);
    items.push(dt, dd);
  }
  items.push(...fact("Keywords", metadata.keywords ? metadata.keywords.join(", ") : null));
  return items;
}

// Tags often found with this image's: the companions of its first tags, weighed by how
// often they come with each, those it has already left out. A click adds one (or, read
// only, searches for it).
async function showRelated(writable) {
  const own = new Set(state.image.tags);
  const asked = state.image.tags.slice(0, 3);
  const answers = await Promise.all(asked.map((tag) => relatedTags(tag, 12)));
  const weight = new Map();
  for (const answer of answers) {
    for (const { tag, images } of answer.related) {
      if (own.has(tag)) continue;
      weight.set(tag, (weight.get(tag) || 0) + images / Math.max(answer.sampled, 1));
    }
  }
  const best = [...weight].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 10);
  $("related-section").hidden = !best.length;
  $("related").replaceChildren(
    ...best.map(([tag, share]) => {
      const item = document.createElement("li");
      item.className = "tag";
      const label = `${tag} (${Math.round(share * 100 / Math.max(answers.length, 1))}%)`;
      if (writable) {
        const add = document.createElement("button");
        add.type = "button";
        add.className = "add-related";
        add.textContent = `+ ${label}`;
        add.setAttribute("aria-label", `Add tag ${tag}`);
        add.addEventListener("click", () => edit({ tags_add: [tag] }));
        item.append(add);
      } else {
        const link = document.createElement("a");
        link.href = `${grid}?q=${encodeURIComponent(term(tag))}`;
        link.textContent = label;
        item.append(link);
      }
      return item;
    }),
  );
}

function render(image, writable) {
  state.image = image;
  document.title = `pixtag: ${image.filename}`;
  $("filename").textContent = image.filename;
  $("description").textContent = image.description || "";
  $("description").hidden = !image.description;
  const file = image.attachment;
  $("facts").replaceChildren(
    ...fact("Id", String(image.image_id)),
    ...fact("Created", timeElement(image.created_at)),
    ...(file
      ? [
          ...fact("Type", file.content_type),
          ...fact("Size", size(file.size)),
          ...fact("Dimensions", file.width ? `${file.width} \u00d7 ${file.height}` : null),
          ...fact("SHA-256", file.sha256),
          ...fact("Uploaded", timeElement(file.uploaded_at)),
        ]
      : fact("File", "none uploaded")),
    ...photoFacts(image.metadata),
  );
  $("tags").replaceChildren(
    ...image.tags.map((tag) => {
      const item = document.createElement("li");
      item.className = "tag";
      const link = document.createElement("a");
      link.href = `${grid}?q=${encodeURIComponent(term(tag))}`;
      link.textContent = tag;
      item.append(link);
      if (writable) {
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "remove";
        remove.textContent = "\u00d7";
        remove.setAttribute("aria-label", `Remove tag ${tag}`);
        remove.addEventListener("click", () => edit({ tags_remove: [tag] }));
        item.append(remove);
      }
      return item;
    }),
  );
  $("download").hidden = !file;
}

const MATCHES = { bytes: "same file", pixels: "same pixels", perceptual: "same picture" };

// "N similar": the images on each rung of this one's ladder, nearest first, as thumbnails.
async function showSimilar() {
  const answer = await api("GET", `/images/${id}/similar?limit=12`);
  if (!answer.ok || !answer.body.similar.length) return;
  const found = answer.body.similar;
  $("similar-title").textContent = `${found.length}${found.length === 12 ? "+" : ""} similar`;
  $("similar").replaceChildren(
    ...found.map((match) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = `${grid}/images/${match.image_id}`;
      const img = document.createElement("img");
      img.alt = `image ${match.image_id}`;
      const label = document.createElement("span");
      label.textContent = match.match === "perceptual" ? `${MATCHES[match.match]}, ${match.distance} bits` : MATCHES[match.match];
      link.append(img, label);
      item.append(link);
      showImage(img, [`/images/${match.image_id}/renditions/thumb`]);
      return item;
    }),
  );
  $("similar-all").href = `${grid}?q=${encodeURIComponent(`similar:${id}`)}`;
  $("similar-section").hidden = false;
}

// The page of an image that cannot be shown: why, and nothing that would fail. Deleted (410)
// and unknown (404) ids say so; a busy or unreachable server is tried again after the
// Retry-After it gave (5 s without one), or at once with the button.
function unavailable(answer) {
  const panel = document.createElement("section");
  panel.id = "unavailable";
  panel.className = "unavailable";
  const title = document.createElement("h1");
  const text = document.createElement("p");
  const back = document.createElement("a");
  back.href = $("back").href;
  back.textContent = "Back to the grid";
  if (answer.status === 410) {
    title.textContent = "This image was deleted";
    text.textContent = answer.message;
  } else if (answer.status === 404) {
    title.textContent = "No such image";
    text.textContent = `No image has the id ${id}.`;
  } else if (answer.status === 0 || answer.status === 503 || answer.status === 429) {
    const wait = Math.min(Math.max(Number(answer.headers.get("Retry-After")) || 5, 1), 300);
    title.textContent = answer.status === 0 ? "The server cannot be reached" : "The server is busy";
    text.textContent = `Trying again in ${wait} s.`;
    const retry = document.createElement("button");
    retry.type = "button";
    retry.id = "retry";
    retry.textContent = "Retry now";
    retry.addEventListener("click", () => location.reload());
    panel.append(title, text, retry, back);
    $("image").replaceChildren(panel);
    setTimeout(() => location.reload(), wait * 1000);
    return;
  } else {
    title.textContent = "This image cannot be shown";
    text.textContent = answer.message;
  }
  panel.append(title, text, back);
  $("image").replaceChildren(panel);
}

async function load() {
  const answer = await api("GET", `/images/${id}`);
  if (!answer.ok) {
    unavailable(answer);
    return null;
  }
  state.etag = answer.headers.get("ETag");
  return answer.body;
}

// A PATCH made only if nobody changed the image since it was read (If-Match).
async function edit(patch) {
  say("");
  const answer = await api("PATCH", `/images/${id}`, { json: patch, headers: state.etag ? { "If-Match": state.etag } : {} });
  if (answer.status === 412) {
    say("This image was changed elsewhere since you opened it; nothing was saved. Reload the page to see the change, then edit again.");
    return false;
  }
  if (!answer.ok) {
    say(answer.message);
    return false;
  }
  state.etag = answer.headers.get("ETag");
  render(answer.body, true);
  showRelated(true);
  return true;
}

// With a token the file is fetched with it (a plain link cannot send headers), then saved.
async function download() {
  const path = `/images/${id}/attachment/${encodeURIComponent(state.image.filename)}`;
  const response = await fetch(path, { headers: authHeaders() });
  if (!response.ok) return say(`The file cannot be downloaded (${response.status}).`);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = state.image.filename;
  link.click();
}

function setUpDownload() {
  const link = $("download");
  link.href = `/images/${id}/attachment/${encodeURIComponent(state.image.filename)}`;
  link.setAttribute("download", state.image.filename);
  link.addEventListener("click", (event) => {
    if (!token()) return;
    event.preventDefault();
    download();
  });
}

function setUpEditing() {
  const input = $("tag-input");
  autocomplete(input, $("tag-suggestions"), { separator: "," });
  const add = async (tags) => {
    if (tags.length && (await edit({ tags_add: tags }))) input.value = "";
  };
  tagBox(input, add);
  $("tag-add").addEventListener("submit", (event) => {
    event.preventDefault();
    add(tagEntries(input.value));
  });
  $("rename-open").addEventListener("click", () => {
    $("new-name").value = state.image.filename;
    $("rename").hidden = false;
    $("new-name").focus();
  });
  $("rename-cancel").addEventListener("click", () => ($("rename").hidden = true));
  $("rename").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (await edit({ filename: $("new-name").value.trim() })) {
      $("rename").hidden = true;
      setUpDownload();
    }
  });
  $("describe-open").addEventListener("click", () => {
    $("new-description").value = state.image.description || "";
    $("describe").hidden = false;
    $("new-description").focus();
  });
  $("describe-cancel").addEventListener("click", () => ($("describe").hidden = true));
  $("describe").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (await edit({ description: $("new-description").value })) $("describe").hidden = true;
  });
  $("delete").addEventListener("click", () => $("confirm-delete").showModal());
  $("confirm-delete").addEventListener("close", async () => {
    if ($("confirm-delete").returnValue !== "delete") return;
    const answer = await api("DELETE", `/images/${id}`, { headers: state.etag ? { "If-Match": state.etag } : {} });
    if (answer.status === 412) return say("This image was changed elsewhere since you opened it; it was not deleted. Reload the page first.");
    if (!answer.ok) return say(answer.message);
    location.href = sessionStorage.getItem("pixtag.back") || grid;
  });
  $("share-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {};
    if ($("share-password").value) body.password = $("share-password").value;
    if ($("share-expiry").value) body.expires_in = Number($("share-expiry").value);
    if ($("share-once").checked) body.max_downloads = 1;
    if ($("share-keep-metadata").checked) body.strip_metadata = false;
    const answer = await api("POST", `/images/${id}/shares`, { json: body });
    if (answer.status === 404 || answer.status === 405) {
      $("share-message").textContent = "Share links are unavailable on this server.";
      return;
    }
    if (!answer.ok) {
      $("share-message").textContent = answer.message;
      return;
    }
    $("share-url").value = new URL(answer.body.url, location.origin).href;
    $("share-result").hidden = false;
    const facts = [answer.body.has_password && "password", answer.body.expires_at && `expires ${answer.body.expires_at}`, answer.body.max_downloads && `${answer.body.max_downloads} download(s)`];
    $("share-message").textContent = `Link created${facts.some(Boolean) ? `: ${facts.filter(Boolean).join(", ")}` : ""}.`;
  });
  $("share-copy").addEventListener("click", async () => {
    $("share-url").select();
    try {
      await navigator.clipboard.writeText($("share-url").value);
      $("share-message").textContent = "Copied.";
    } catch (error) {
      $("share-message").textContent = "Select the link and copy it (the clipboard is not available).";
    }
  });
  writing();
}

// The arrow keys walk the ids the grid showed last; Escape goes back to it.
function setUpKeys() {
  const ids = JSON.parse(sessionStorage.getItem("pixtag.ids") || "[]");
  const back = sessionStorage.getItem("pixtag.back") || grid;
  $("back").href = back;
  const at = ids.indexOf(id);
  const neighbour = { ArrowLeft: at > 0 ? ids[at - 1] : null, ArrowRight: at >= 0 && at < ids.length - 1 ? ids[at + 1] : null };
  for (const [key, link] of [["ArrowLeft", "prev"], ["ArrowRight", "next"]]) {
    if (neighbour[key]) {
      $(link).href = `${grid}/images/${neighbour[key]}`;
      $(link).hidden = false;
    }
  }
  document.addEventListener("keydown", (event) => {
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName) || document.querySelector("dialog[open]")) return;
    if (neighbour[event.key]) location.href = `${grid}/images/${neighbour[event.key]}`;
    else if (event.key === "Escape") location.href = back;
  });
}

// Full screen from here walks the ids the grid showed last (this image alone without them).
function setUpViewer(image, writable) {
  const stored = JSON.parse(sessionStorage.getItem("pixtag.ids") || "[]");
  const ids = stored.includes(id) ? stored : [id];
  const read = new Map([[id, Promise.resolve(image)]]);
  const source = {
    ids: () => ids,
    image: (other) => {
      if (!read.has(other)) read.set(other, api("GET", `/images/${other}`).then((answer) => (answer.ok ? answer.body : null)));
      return read.get(other);
    },
    more: async () => false,
    changed: (changed) => changed.image_id === id && load().then((fresh) => fresh && render(fresh, writable)),
  };
  $("full-screen").hidden = false;
  $("full-screen").addEventListener("click", () => openViewer(source, ids.indexOf(id), { writable }));
  $("preview").addEventListener("dblclick", () => openViewer(source, ids.indexOf(id), { writable }));
}

async function main() {
  const who = start();
  const loading = load();
  $("search").addEventListener("submit", (event) => {
    event.preventDefault();
    location.href = `${grid}?q=${encodeURIComponent($("q").value.trim())}`;
  });
  setUpKeys();
  const me = await who;
  if (!readable(me)) return notice("Sign in to see this image.");
  const image = await loading;
  if (!image) return;
  const writable = canWrite(me);
  render(image, writable);
  setUpDownload();
  showImage($("preview"), renditionUrls(image, "preview"));
  $("preview").alt = image.description ? `${image.filename}: ${image.description}` : image.filename;
  if (image.attachment) setUpViewer(image, writable);
  showSimilar();
  showRelated(writable);
  if (writable) setUpEditing();
}

main();
