// The full-screen viewer: the preview filling the window, the original on zoom (double-click,
// wheel, pinch, the button; dragged to pan), the next and previous images by the arrow keys,
// a swipe or the buttons (the next one fetched ahead), a slideshow, `t` to tag in place.
// Escape closes it; the page under it never moved.
import { api, authHeaders, renditionUrls, token } from "./api.js";
import { $, autocomplete, notice, tagBox, tagEntries } from "./chrome.js";

const SLIDE_MS = 4000;
const MAX_SCALE = 8;
const SWIPE_PX = 50;
// Fetched pictures kept by URL (object URLs when a token is sent): the shown one and its
// neighbours, so that next and previous show at once.
const KEEP = 3;

const view = {
  source: null, // { ids(), image(id), more() }: what the viewer walks
  index: 0,
  image: null,
  zoomed: false,
  scale: 1,
  x: 0,
  y: 0,
  timer: null,
  pointers: new Map(),
  pinch: null,
  swipe: null,
  writable: false,
  shown: 0, // which show() is current: a slower earlier one never overwrites it
};
const fetched = new Map(); // "id preview|original" -> Promise<string | null>

// A URL the <img> shows `image`'s preview or original with at once: a blob URL when
// requests need the token, else the URL itself once the browser has it in its cache.
function picture(image, which) {
  const key = `${image.image_id} ${which}`;
  if (!fetched.has(key)) {
    const urls = which === "original" ? [image.attachment && image.attachment.url] : renditionUrls(image, "preview");
    fetched.set(key, load(urls.filter(Boolean)));
  }
  return fetched.get(key);
}

async function load(urls) {
  for (const url of urls) {
    if (!token()) {
      const ok = await new Promise((resolve) => {
        const probe = new Image();
        probe.onload = () => resolve(true);
        probe.onerror = () => resolve(false);
        probe.src = url;
      });
      if (ok) return url;
      continue;
    }
    try {
      const response = await fetch(url, { headers: authHeaders() });
      if (!response.ok) continue;
      const blob = await response.blob();
      if (blob.type.startsWith("image/")) return URL.createObjectURL(blob);
    } catch (error) {
      // the next candidate
    }
  }
  return null;
}

function forgetFar() {
  const ids = view.source.ids();
  const near = new Set(ids.slice(Math.max(0, view.index - KEEP), view.index + KEEP + 1).map(String));
  for (const [key, promise] of fetched) {
    if (near.has(key.split(" ")[0])) continue;
    fetched.delete(key);
    promise.then((url) => url && url.startsWith("blob:") && URL.revokeObjectURL(url));
  }
}

const img = () => $("viewer-img");

function place() {
  const element = img();
  element.classList.toggle("zoomed", view.zoomed);
  element.style.transform = view.zoomed ? `translate(${view.x}px, ${view.y}px) scale(${view.scale})` : "";
  $("viewer-zoom").setAttribute("aria-pressed", String(view.zoomed));
  $("viewer-zoom").textContent = view.zoomed ? "Fit to window" : "Original size";
}

// The scale at which the whole original fits the stage.
function fitScale() {
  const stage = $("viewer-stage").getBoundingClientRect();
  const { naturalWidth: w, naturalHeight: h } = img();
  return w && h ? Math.min(1, stage.width / w, stage.height / h) : 1;
}

// Zoom to `scale` of the original, keeping the point (px, py) of the stage where it is.
async function zoomTo(scale, px, py) {
  const image = view.image;
  if (!view.zoomed) {
    const original = await picture(image, "original");
    if (!original || view.image !== image) return;
    const before = img().getBoundingClientRect();
    const stage = $("viewer-stage").getBoundingClientRect();
    img().src = original;
    await img().decode().catch(() => {});
    if (view.image !== image) return;
    // Start from where the preview was, in the original's pixels.
    const shownScale = before.width / img().naturalWidth || fitScale();
    Object.assign(view, { zoomed: true, scale: shownScale, x: before.left - stage.left, y: before.top - stage.top });
  }
  const next = Math.min(MAX_SCALE, Math.max(fitScale(), scale));
  view.x = px - ((px - view.x) * next) / view.scale;
  view.y = py - ((py - view.y) * next) / view.scale;
  view.scale = next;
  place();
}

async function unzoom() {
  if (!view.zoomed) return;
  view.zoomed = false;
  img().src = (await picture(view.image, "preview")) || "";
  place();
}

function stagePoint(event) {
  const stage = $("viewer-stage").getBoundingClientRect();
  return [event.clientX - stage.left, event.clientY - stage.top];
}

function center() {
  const stage = $("viewer-stage").getBoundingClientRect();
  return [stage.width / 2, stage.height / 2];
}

// Show the picture at `index`; a record without a file (or gone) is stepped over, onwards
// in the direction of travel.
async function show(index, direction = 1) {
  const ids = view.source.ids();
  if (index >= ids.length && (await view.source.more())) return show(index, direction);
  if (index < 0 || index >= view.source.ids().length) return false;
  const turn = ++view.shown;
  const id = view.source.ids()[index];
  const image = await view.source.image(id);
  if (turn !== view.shown) return false;
  if (!image || !image.attachment) return show(index + direction, direction);
  view.index = index;
  view.image = image;
  view.zoomed = false;
  place();
  const element = img();
  element.alt = image.description ? `${image.filename}: ${image.description}` : image.filename;
  element.dataset.imageId = String(id);
  const url = await picture(image, "preview");
  if (turn !== view.shown) return false;
  element.src = url || "";
  $("viewer-caption").textContent = `${image.filename} \u00b7 ${index + 1} of ${view.source.ids().length}${view.source.done?.() === false ? "+" : ""}`;
  $("viewer-tags").textContent = image.tags.join(", ");
  $("viewer-details").href = `${document.body.dataset.grid}/images/${id}`;
  $("viewer-prev").disabled = index === 0;
  ahead(index + 1);
  ahead(index - 1);
  forgetFar();
  return true;
}

// Fetch the neighbour's preview now, so that moving to it shows it at once.
async function ahead(index) {
  const ids = view.source.ids();
  if (index < 0 || index >= ids.length) return;
  const image = await view.source.image(ids[index]);
  if (image) picture(image, "preview");
}

const step = (by) => show(view.index + by, Math.sign(by));

function slideshow(on = view.timer === null) {
  clearInterval(view.timer);
  view.timer = null;
  if (on) {
    view.timer = setInterval(async () => {
      if (!(await step(1))) slideshow(false);
    }, SLIDE_MS);
  }
  $("viewer-play").setAttribute("aria-pressed", String(on));
  $("viewer-play").textContent = on ? "Stop slideshow" : "Slideshow";
}

function tagging(on) {
  if (!view.writable) return;
  $("viewer-tag").hidden = !on;
  if (on) {
    slideshow(false);
    $("viewer-tag-input").focus();
  }
}

async function addTags(entries) {
  const image = view.image;
  const tags = entries.filter((tag) => !image.tags.includes(tag));
  $("viewer-tag-input").value = "";
  if (!tags.length) return;
  const answer = await api("PATCH", `/images/${image.image_id}`, { json: { tags_add: tags } });
  if (!answer.ok) return notice(`Tagging failed: ${answer.message}`, true);
  Object.assign(image, answer.body);
  if (view.image === image) $("viewer-tags").textContent = image.tags.join(", ");
  view.source.changed?.(image);
}

function onKey(event) {
  if (event.target === $("viewer-tag-input")) return;
  const keys = {
    ArrowRight: () => step(1),
    ArrowLeft: () => step(-1),
    t: () => tagging(true),
    s: () => slideshow(),
    "+": () => zoomTo(view.zoomed ? view.scale * 1.5 : 1, ...center()),
    "-": () => (view.zoomed ? zoomTo(view.scale / 1.5, ...center()) : null),
    0: () => unzoom(),
  };
  const action = keys[event.key];
  if (!action || event.ctrlKey || event.metaKey || event.altKey) return;
  event.preventDefault();
  if (event.key.startsWith("Arrow")) slideshow(false);
  action();
}

function setUp() {
  const dialog = $("viewer");
  const stage = $("viewer-stage");
  dialog.addEventListener("keydown", onKey);
  dialog.addEventListener("cancel", (event) => {
    // Escape in the tag box closes the box, not the viewer.
    if (!$("viewer-tag").hidden && document.activeElement === $("viewer-tag-input")) {
      event.preventDefault();
      tagging(false);
      $("viewer-close").focus();
    }
  });
  dialog.addEventListener("close", () => {
    slideshow(false);
    view.shown += 1;
    tagging(false);
  });
  $("viewer-close").addEventListener("click", () => dialog.close());
  $("viewer-prev").addEventListener("click", () => step(-1));
  $("viewer-next").addEventListener("click", () => step(1));
  $("viewer-play").addEventListener("click", () => slideshow());
  $("viewer-zoom").addEventListener("click", () => (view.zoomed ? unzoom() : zoomTo(1, ...center())));
  stage.addEventListener("dblclick", (event) => (view.zoomed ? unzoom() : zoomTo(1, ...stagePoint(event))));
  stage.addEventListener(
    "wheel",
    (event) => {
      event.preventDefault();
      const factor = event.deltaY < 0 ? 1.25 : 0.8;
      if (!view.zoomed && factor < 1) return;
      zoomTo(view.zoomed ? view.scale * factor : fitScale() * factor, ...stagePoint(event));
    },
    { passive: false },
  );
  stage.addEventListener("pointerdown", (event) => {
    stage.setPointerCapture(event.pointerId);
    view.pointers.set(event.pointerId, stagePoint(event));
    if (view.pointers.size === 2) {
      const [a, b] = [...view.pointers.values()];
      view.pinch = { distance: Math.hypot(a[0] - b[0], a[1] - b[1]), scale: view.zoomed ? view.scale : fitScale() };
    } else {
      view.swipe = { start: stagePoint(event), x: view.x, y: view.y };
    }
  });
  stage.addEventListener("pointermove", (event) => {
    if (!view.pointers.has(event.pointerId)) return;
    view.pointers.set(event.pointerId, stagePoint(event));
    if (view.pinch && view.pointers.size === 2) {
      const [a, b] = [...view.pointers.values()];
      const distance = Math.hypot(a[0] - b[0], a[1] - b[1]);
      zoomTo((view.pinch.scale * distance) / view.pinch.distance, (a[0] + b[0]) / 2, (a[1] + b[1]) / 2);
    } else if (view.zoomed && view.swipe) {
      const [x, y] = stagePoint(event);
      view.x = view.swipe.x + x - view.swipe.start[0];
      view.y = view.swipe.y + y - view.swipe.start[1];
      place();
    }
  });
  const release = (event) => {
    view.pointers.delete(event.pointerId);
    if (view.pointers.size < 2) view.pinch = null;
    if (view.swipe && !view.zoomed && event.type === "pointerup") {
      const dx = stagePoint(event)[0] - view.swipe.start[0];
      if (Math.abs(dx) > SWIPE_PX) step(dx < 0 ? 1 : -1);
    }
    if (!view.pointers.size) view.swipe = null;
  };
  stage.addEventListener("pointerup", release);
  stage.addEventListener("pointercancel", release);
  if (view.writable) {
    // Escape in the tag box closes the box, not the viewer (its keydown is the dialog's
    // close request; the cancel handler above covers a request from elsewhere).
    $("viewer-tag-input").addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      event.preventDefault();
      if (!$("viewer-tag-suggestions").hidden) return; // the suggestions close first
      tagging(false);
      $("viewer-close").focus();
    });
    tagBox($("viewer-tag-input"), addTags);
    autocomplete($("viewer-tag-input"), $("viewer-tag-suggestions"), { separator: "," });
    $("viewer-tag").addEventListener("submit", (event) => {
      event.preventDefault();
      addTags(tagEntries($("viewer-tag-input").value));
    });
  }
}

let ready = false;

// Open the viewer on `source.ids()[index]`; `writable`: the user may tag.
export async function openViewer(source, index, { writable = false } = {}) {
  if (!ready) {
    view.writable = writable;
    setUp();
    ready = true;
  }
  view.source = source;
  $("viewer").showModal();
  $("viewer-close").focus();
  await show(index);
}

// The image a viewer shows (null when closed): its page and the grid follow it.
export const viewing = () => ($("viewer").open ? view.image : null);
