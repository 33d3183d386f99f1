// The grid: keyset-paged infinite scroll, selection and bulk tagging, upload and capture.
import { api, authHeaders, canWrite, relatedTags, renditionUrls, showImage, unpack } from "./api.js";
import { $, autocomplete, notice, readable, start, tagEntries, term, writing } from "./chrome.js";
import { openViewer } from "./viewer.js";

const PAGE = 60;
// The orders the Order menu offers (the q language's sort: values).
const SORTS = ["-id", "id", "-taken", "taken"];
// A timeline: in an order by date taken, a heading before each month's or day's photos.
const GROUPS = ["month", "day", ""];
const state = { q: "", sort: "-id", group: "month", after: null, done: false, loading: false, generation: 0, selected: new Set(), last: null, heading: null, images: new Map() };
// The sidebar names at most this many of the tags shown (the most frequent among them).
const SIDEBAR_TAGS = 100;

const tiles = () => [...$("grid").querySelectorAll(".tile")];

// The period a photo falls in (its own wall-clock date: taken_at as the file says it), or
// "" for a photo without a date.
function period(image) {
  const taken = image.metadata?.taken_at;
  if (!taken) return "";
  return state.group === "day" ? taken.slice(0, 10) : taken.slice(0, 7);
}

function heading(key) {
  const item = document.createElement("li");
  item.className = "period";
  item.setAttribute("role", "presentation");
  const title = document.createElement("h2");
  if (!key) {
    title.textContent = "No date taken";
  } else {
    const [year, month, day] = key.split("-").map(Number);
    const date = new Date(Date.UTC(year, month - 1, day || 1));
    const style = day ? { dateStyle: "full" } : { year: "numeric", month: "long" };
    title.textContent = date.toLocaleDateString(undefined, { ...style, timeZone: "UTC" });
    title.dataset.period = key;
  }
  item.append(title);
  return item;
}

// The tiles of `images`, with a heading wherever the period changes (a timeline).
function placed(images) {
  const timeline = state.group && state.sort.endsWith("taken") && !/(^|\s)sort:/.test(state.q);
  if (!timeline) return images.map(tile);
  const out = [];
  for (const image of images) {
    const key = period(image);
    if (key !== state.heading) {
      out.push(heading(key));
      state.heading = key;
    }
    out.push(tile(image));
  }
  return out;
}

function query() {
  const q = state.q.trim();
  return /(^|\s)sort:/.test(q) ? q : `${q} sort:${state.sort}`.trim();
}

function tile(image) {
  state.images.set(image.image_id, image);
  const item = document.createElement("li");
  item.className = "tile";
  item.dataset.id = image.image_id;
  const link = document.createElement("a");
  link.href = `${document.body.dataset.grid}/images/${image.image_id}`;
  link.className = "thumb";
  const attachment = image.attachment;
  if (attachment && attachment.width && attachment.height) {
    // Its shape in the justified rows, within bounds: a panorama or a strip stays a tile.
    item.style.setProperty("--ratio", Math.min(3, Math.max(1 / 3, attachment.width / attachment.height)).toFixed(3));
  }
  const urls = renditionUrls(image, "thumb");
  if (urls.length) {
    const img = document.createElement("img");
    img.alt = image.description ? `${image.filename}: ${image.description}` : image.filename;
    img.width = 160;
    img.height = 160;
    link.append(img);
    showImage(img, urls);
  } else {
    link.classList.add("no-file");
    link.textContent = "no file";
  }
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = image.filename;
  const tags = document.createElement("span");
  tags.className = "tile-tags";
  tags.append(...tagButtons(image));
  const pick = document.createElement("input");
  pick.type = "checkbox";
  pick.className = "pick write-only";
  pick.setAttribute("aria-label", `Select ${image.filename}`);
  pick.addEventListener("click", (event) => select(item, event.shiftKey));
  item.append(pick, link, name, tags);
  if (urls.length) {
    const view = document.createElement("button");
    view.type = "button";
    view.className = "view";
    view.textContent = "\u2922";
    view.setAttribute("aria-label", `View ${image.filename} full screen`);
    view.addEventListener("click", () => openViewer(gridSource, pictures().indexOf(item), { writable: state.writable }));
    item.append(view);
  }
  link.addEventListener("click", remember);
  return item;
}

function tagButtons(image) {
  return image.tags.map((tag) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "tag";
    button.textContent = tag;
    button.addEventListener("click", () => search(term(tag)));
    return button;
  });
}

// What the viewer walks: the grid's pictures (images with a file) in its order, more loaded
// as it reaches the end.
const pictures = () => tiles().filter((item) => item.querySelector(".view"));
const gridSource = {
  ids: () => pictures().map((item) => Number(item.dataset.id)),
  image: (id) => state.images.get(id),
  more: async () => {
    const before = tiles().length;
    await more();
    return tiles().length > before;
  },
  done: () => state.done,
  changed: (image) => {
    state.images.set(image.image_id, image);
    $("grid").querySelector(`.tile[data-id="${image.image_id}"] .tile-tags`)?.replaceChildren(...tagButtons(image));
  },
};

// The image page's arrow keys walk the ids the grid has shown.
function remember() {
  const ids = tiles().map((item) => Number(item.dataset.id));
  sessionStorage.setItem("pixtag.ids", JSON.stringify(ids));
  sessionStorage.setItem("pixtag.back", location.pathname + location.search);
}

function select(item, range) {
  const all = tiles();
  const on = item.querySelector(".pick").checked;
  let chosen = [item];
  if (range && state.last && state.last.isConnected) {
    const [a, b] = [all.indexOf(state.last), all.indexOf(item)].sort((x, y) => x - y);
    chosen = all.slice(a, b + 1);
  }
  for (const one of chosen) mark(one, on);
  state.last = item;
  showBulk();
}

function mark(item, on) {
  item.querySelector(".pick").checked = on;
  item.classList.toggle("selected", on);
  if (on) state.selected.add(Number(item.dataset.id));
  else state.selected.delete(Number(item.dataset.id));
}

function showBulk() {
  const n = state.selected.size;
  $("selected-count").textContent = n ? `${n} selected` : "No selection";
}

// The next page, once: callers while it loads get the same promise; it resolves once the
// pages the screen needs are in.
function more() {
  if (!state.pending) {
    const pending = nextPage().then((again) => {
      if (state.pending === pending) state.pending = null;
      return again ? more() : undefined;
    });
    state.pending = pending;
  }
  return state.pending;
}

// Append the next page; whether the screen needs another.
async function nextPage() {
  if (state.loading || state.done) return false;
  state.loading = true;
  const generation = state.generation;
  let path = `/images?q=${encodeURIComponent(query())}&limit=${PAGE}`;
  if (state.after) path += `&after=${encodeURIComponent(state.after)}`;
  const answer = await api("GET", path);
  if (generation !== state.generation) return false;
  state.loading = false;
  if (!answer.ok) {
    state.done = true;
    notice(answer.message, true);
    return false;
  }
  const { items, totals } = unpack(answer.body);
  const first = !$("grid").children.length && items.length;
  $("grid").append(...placed(items));
  // When the grid first shows something (bench/gallery.py reads it).
  if (first && !performance.getEntriesByName("pixtag:grid").length) performance.mark("pixtag:grid");
  state.after = totals.after || null;
  state.done = !state.after;
  const shown = tiles().length;
  $("empty").hidden = shown > 0;
  showCount();
  showSidebar(generation);
  const sentinel = $("more").getBoundingClientRect();
  return !state.done && sentinel.top < window.innerHeight * 2;
}

// "12,431 images" (counted), or "about 300,000 images" (the search's estimate past 10,000),
// then how many are shown while the grid is still loading more.
function showCount() {
  const shown = tiles().length;
  const total = state.total;
  const element = $("count");
  if (!total) {
    element.textContent = `${shown.toLocaleString()}${state.done ? "" : "+"} shown`;
    element.title = "";
    return;
  }
  const n = total.images;
  const words = `${total.exact ? "" : "about "}${n.toLocaleString()} image${n === 1 ? "" : "s"}`;
  element.textContent = state.done || shown >= n ? words : `${words}, ${shown.toLocaleString()} shown`;
  element.title = total.exact ? "" : "An estimate: more than 10,000 images match.";
}

// Adds a term to the search (a tag, or "-tag" to leave it out).
function narrow(word) {
  search(`${state.q} ${word}`.trim());
}

function sidebarEntry(tag, count, about = `${count.toLocaleString()} image${count === 1 ? "" : "s"} in all`) {
  const item = document.createElement("li");
  const filter = document.createElement("button");
  filter.type = "button";
  filter.className = "tag-filter";
  filter.textContent = tag;
  filter.title = `Only images tagged “${tag}” (Alt+click: none tagged so)`;
  filter.addEventListener("click", (event) => narrow(event.altKey ? `-${term(tag)}` : term(tag)));
  const exclude = document.createElement("button");
  exclude.type = "button";
  exclude.className = "tag-exclude";
  exclude.textContent = "−";
  exclude.setAttribute("aria-label", `Leave out images tagged ${tag}`);
  exclude.addEventListener("click", () => narrow(`-${term(tag)}`));
  const number = document.createElement("span");
  number.className = "tag-count";
  number.textContent = count.toLocaleString();
  number.title = about;
  item.append(filter, number, exclude);
  return item;
}

// The tag a one-tag search is for (a bare or quoted tag, no field), else null.
function searchedTag() {
  const q = state.q.trim();
  const quoted = /^"((?:[^"\\]|\\.)+)"$/.exec(q);
  if (quoted) return quoted[1].replace(/\\(.)/g, "$1");
  return /^[^\s()"*:-][^\s()"*:]*$/.test(q) && q !== "or" ? q : null;
}

// The tags of the images shown with their counts in the whole collection, most used first
// (booru style); with a one-tag search, the tags most often found with it.
async function showSidebar(generation) {
  const seen = new Map();
  for (const item of tiles()) {
    for (const tag of state.images.get(Number(item.dataset.id))?.tags ?? []) seen.set(tag, (seen.get(tag) || 0) + 1);
  }
  const names = [...seen].sort((a, b) => b[1] - a[1]).slice(0, SIDEBAR_TAGS).map(([tag]) => tag);
  const tag = searchedTag();
  const [counted, related] = await Promise.all([
    names.length ? api("GET", `/tags?${names.map((name) => `name=${encodeURIComponent(name)}`).join("&")}`) : null,
    tag && !state.related ? relatedTags(tag, 20) : null,
  ]);
  if (generation !== state.generation) return;
  const rows = counted?.ok ? unpack(counted.body).items : [];
  $("tag-list").replaceChildren(...rows.map((row) => sidebarEntry(row.tag, row.image_count)));
  if (related) {
    state.related = related;
    $("related-of").textContent = related.tag || tag;
    const of = `${related.sampled.toLocaleString()} image${related.sampled === 1 ? "" : "s"} tagged ${related.tag}`;
    $("related-list").replaceChildren(...related.related.map((row) => sidebarEntry(row.tag, row.images, `on ${row.images.toLocaleString()} of the ${of} counted`)));
    $("related-box").hidden = !related.related.length;
  }
}

async function countMatches(generation) {
  const q = state.q.trim();
  const answer = await api("GET", `/images/count${q ? `?q=${encodeURIComponent(q)}` : ""}`);
  if (generation !== state.generation || !answer.ok) return;
  state.total = answer.body;
  showCount();
}

function reload() {
  state.generation += 1;
  state.total = null;
  countMatches(state.generation);
  Object.assign(state, { after: null, done: false, loading: false, last: null, heading: null, related: null, pending: null });
  state.selected.clear();
  state.images.clear();
  $("related-box").hidden = true;
  showBulk();
  $("grid").replaceChildren();
  notice("");
  more();
}

function search(q) {
  state.q = q;
  $("q").value = q;
  const url = new URL(location.href);
  if (q) url.searchParams.set("q", q);
  else url.searchParams.delete("q");
  history.replaceState(null, "", url);
  reload();
}

async function bulk(action) {
  // Tags separated by commas; with Add, a "-tag" is removed (with Remove, every one is).
  const entries = tagEntries($("bulk-tags").value);
  if (!entries.length) return notice("Type the tags to add or remove first.", true);
  const minus = entries.filter((tag) => tag.startsWith("-")).map((tag) => tag.slice(1).trim());
  const plus = entries.filter((tag) => !tag.startsWith("-"));
  const body =
    action === "add" ? { add: plus, remove: minus } : { add: [], remove: [...plus, ...minus] };
  if ($("bulk-all").checked) body.query = query();
  else if (state.selected.size) body.ids = [...state.selected];
  else return notice("Select images first, or tick \u201cthe whole search\u201d.", true);
  const answer = await api("POST", "/images/tags", { json: body });
  if (!answer.ok) return notice(`Bulk tagging failed: ${answer.message}`, true);
  const n = answer.body.changed;
  reload();
  notice(`${n} image${n === 1 ? "" : "s"} changed.`);
}

function transfer(name) {
  const item = document.createElement("li");
  const label = document.createElement("span");
  label.textContent = name;
  const progress = document.createElement("progress");
  progress.max = 1;
  progress.value = 0;
  const status = document.createElement("span");
  status.className = "status";
  item.append(label, progress, status);
  $("transfers").prepend(item);
  return {
    item,
    progress,
    // `text`, then links to `ids` (image pages) each labelled by `labels[i]` when given.
    set(text, kind = "", ids = [], labels = []) {
      status.replaceChildren(text);
      ids.forEach((other, i) => {
        const link = document.createElement("a");
        link.href = `${document.body.dataset.grid}/images/${other}`;
        link.textContent = `image ${other}${labels[i] ? ` (${labels[i]})` : ""}`;
        status.append(i ? ", " : " ", link);
      });
      item.className = kind;
    },
  };
}

const MATCHES = { bytes: "same file", pixels: "same pixels", perceptual: "same picture" };

// The sha256 of a file, where the browser computes it (a secure context), else null.
async function digest(file) {
  if (!globalThis.crypto || !crypto.subtle) return null;
  try {
    const hash = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
    return [...new Uint8Array(hash)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  } catch (error) {
    return null;
  }
}

// The image already holding these bytes, if any (the file is then not uploaded again).
async function stored(file) {
  const sha256 = await digest(file);
  if (!sha256) return null;
  const answer = await api("GET", `/images?sha256=${sha256}&limit=1`);
  return answer.ok ? unpack(answer.body).items[0] || null : null;
}

// One multipart create per file, through XMLHttpRequest for its upload progress. A file the
// server stores already is not sent again; one that duplicates others (the same pixels, the
// same picture) is stored and the row says which images it looks like.
async function upload(file) {
  const row = transfer(file.name);
  row.set("checking");
  const existing = await stored(file);
  if (existing) {
    row.progress.value = 1;
    row.set("already stored, not uploaded again:", "duplicate", [existing.image_id]);
    return false;
  }
  row.set("uploading");
  const form = new FormData();
  const tags = tagEntries($("upload-tags").value); // given before uploading: every file gets them
  form.append("meta", new Blob([JSON.stringify({ filename: file.name, tags })], { type: "application/json" }));
  form.append("image", file, file.name);
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/images?check_similar=true");
    for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) row.progress.value = event.loaded / event.total;
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch (error) {
        // not JSON: the status says it
      }
      if (xhr.status === 201) {
        row.progress.value = 1;
        const near = body.near_duplicates || [];
        if (near.length) {
          row.set(`done: image ${body.image_id}, which looks like`, "done duplicate", near.map((m) => m.image_id), near.map((m) => MATCHES[m.match]));
        } else {
          row.set(`done: image ${body.image_id}`, "done");
        }
      } else {
        row.set(`refused: ${(body && (body.detail || body.error)) || xhr.status}`, "failed");
      }
      resolve(xhr.status === 201);
    });
    xhr.addEventListener("error", () => {
      row.set("failed: the server cannot be reached", "failed");
      resolve(false);
    });
    xhr.send(form);
  });
}

async function uploadAll(files) {
  const results = await Promise.all([...files].map(upload));
  if (results.some(Boolean)) reload();
}

async function capture(url) {
  const row = transfer(url);
  const answer = await api("POST", "/captures", { json: { url } });
  if (!answer.ok) return row.set(`refused: ${answer.message}`, "failed");
  let capture = answer.body;
  while (capture.status === "queued" || capture.status === "running") {
    row.set(capture.status);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const polled = await api("GET", `/captures/${capture.capture_id}`);
    if (!polled.ok) return row.set(`failed: ${polled.message}`, "failed");
    capture = polled.body;
  }
  if (capture.status === "done") {
    row.progress.value = 1;
    row.set(`done: image ${capture.image_id}${capture.duplicate ? " (already stored)" : ""}`, "done");
    reload();
  } else {
    row.set(`${capture.status}: ${capture.error ? capture.error.message : ""}`, "failed");
  }
}

// The selection (in the grid's order) into an album named in the box: an existing manual
// album of that name (any case), else a new one.
async function addToAlbum() {
  const name = $("album-target").value.trim();
  const ids = tiles().map((item) => Number(item.dataset.id)).filter((id) => state.selected.has(id));
  if (!name) return notice("Name the album to add the selection to.", true);
  if (!ids.length) return notice("Select images first.", true);
  const listed = await api("GET", "/albums");
  const albums = listed.ok ? unpack(listed.body).items : [];
  let album = albums.find((a) => a.name.toLowerCase() === name.toLowerCase());
  if (album && album.kind !== "manual") return notice(`“${album.name}” is a smart album: its images are its search's.`, true);
  if (!album) {
    const made = await api("POST", "/albums", { json: { name } });
    if (!made.ok) return notice(made.message, true);
    album = made.body;
  }
  const answer = await api("POST", `/albums/${album.album_id}/images`, { json: { ids } });
  if (!answer.ok) return notice(answer.message, true);
  notice(`Added ${ids.length} image${ids.length === 1 ? "" : "s"} to “${answer.body.name}” (${answer.body.image_count} in it).`);
  loadAlbumNames();
}

async function loadAlbumNames() {
  const answer = await api("GET", "/albums");
  if (!answer.ok) return;
  const names = unpack(answer.body).items.filter((a) => a.kind === "manual").map((a) => a.name);
  $("album-names").replaceChildren(...names.map((name) => Object.assign(document.createElement("option"), { value: name })));
}

function setUpWriting() {
  state.writable = true;
  $("bulk").hidden = false;
  showBulk();
  autocomplete($("bulk-tags"), document.createElement("ul"), { separator: "," });
  autocomplete($("upload-tags"), document.createElement("ul"), { separator: "," });
  $("bulk-tags").addEventListener("paste", (event) => {
    const text = event.clipboardData?.getData("text") ?? "";
    if (!/[\n\r]/.test(text)) return;
    event.preventDefault(); // an input would drop the new lines: they separate tags
    const box = $("bulk-tags");
    box.value = [...tagEntries(box.value), ...tagEntries(text)].join(", ");
  });
  $("bulk-add").addEventListener("click", () => bulk("add"));
  $("bulk-remove").addEventListener("click", () => bulk("remove"));
  $("album-add").addEventListener("click", addToAlbum);
  loadAlbumNames();
  $("select-all").addEventListener("click", () => tiles().forEach((item) => mark(item, true)) || showBulk());
  $("select-none").addEventListener("click", () => tiles().forEach((item) => mark(item, false)) || showBulk());
  $("files").addEventListener("change", (event) => uploadAll(event.target.files));
  $("capture").addEventListener("submit", (event) => {
    event.preventDefault();
    capture($("capture-url").value.trim());
    $("capture-url").value = "";
  });
  const drop = $("drop");
  document.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.hidden = false;
  });
  document.addEventListener("dragleave", (event) => {
    if (!event.relatedTarget) drop.hidden = true;
  });
  document.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.hidden = true;
    if (event.dataTransfer.files.length) uploadAll(event.dataTransfer.files);
  });
  writing();
}

async function main() {
  // The first page is asked for at once, beside /auth/me: the token (if any) is known already.
  const who = start();
  const params = new URLSearchParams(location.search);
  state.q = params.get("q") || "";
  state.sort = SORTS.includes(params.get("sort")) ? params.get("sort") : "-id";
  $("q").value = state.q;
  $("sort").value = state.sort;
  state.group = GROUPS.includes(params.get("group")) ? params.get("group") : "month";
  $("group").value = state.group;
  $("group").disabled = !state.sort.endsWith("taken");
  $("group").addEventListener("change", () => {
    state.group = $("group").value;
    const url = new URL(location.href);
    if (state.group === "month") url.searchParams.delete("group");
    else url.searchParams.set("group", state.group);
    history.replaceState(null, "", url);
    reload();
  });
  $("search").addEventListener("submit", (event) => {
    event.preventDefault();
    search($("q").value.trim());
  });
  $("sort").addEventListener("change", () => {
    state.sort = $("sort").value;
    $("group").disabled = !state.sort.endsWith("taken");
    const url = new URL(location.href);
    if (state.sort === "-id") url.searchParams.delete("sort");
    else url.searchParams.set("sort", state.sort);
    history.replaceState(null, "", url);
    reload();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && state.selected.size && !$("viewer").open) {
      tiles().forEach((item) => mark(item, false));
      showBulk();
    }
  });
  more();
  countMatches(state.generation);
  const me = await who;
  if (canWrite(me)) setUpWriting();
  if (!readable(me)) return notice("Sign in to see the images.");
  new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && more(), { rootMargin: "800px" }).observe($("more"));
}

main();
