// One album: its images in its order. A manual album's images move by drag and drop or by
// keyboard (Alt+Left, Alt+Right on a focused image), each move one PUT /albums/{id}/order;
// an image leaves the album with its Remove button. Share makes a link to the album.
import { api, canWrite, renditionUrls, showImage, unpack } from "./api.js";
import { $, notice, readable, start, writing } from "./chrome.js";

const grid = document.body.dataset.grid;
const albumId = Number($("album").dataset.albumId);
const PAGE = 200;
const state = { album: null, after: null, writable: false };

const tiles = () => [...$("grid").querySelectorAll(".tile")];

function tile(image) {
  const item = document.createElement("li");
  item.className = "tile";
  item.dataset.id = String(image.image_id);
  item.tabIndex = 0;
  const link = document.createElement("a");
  link.href = `${grid}/images/${image.image_id}`;
  link.className = "thumb";
  link.draggable = false;
  const img = document.createElement("img");
  img.alt = image.filename;
  img.width = 160;
  img.height = 160;
  img.draggable = false;
  link.append(img);
  showImage(img, renditionUrls(image, "thumb"));
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = image.filename;
  item.append(link, name);
  if (state.writable && state.album.kind === "manual") {
    item.draggable = true;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "remove";
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", `Remove ${image.filename} from the album`);
    remove.addEventListener("click", () => removeImage(item));
    item.append(remove);
    item.addEventListener("dragstart", (event) => {
      event.dataTransfer.setData("text/plain", item.dataset.id);
      event.dataTransfer.effectAllowed = "move";
      item.classList.add("dragging");
    });
    item.addEventListener("dragend", () => item.classList.remove("dragging"));
    item.addEventListener("dragover", (event) => {
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
    });
    item.addEventListener("drop", (event) => {
      event.preventDefault();
      const moved = tiles().find((t) => t.dataset.id === event.dataTransfer.getData("text/plain"));
      if (moved && moved !== item) move(moved, item);
    });
    item.addEventListener("keydown", (event) => {
      if (!event.altKey || !["ArrowLeft", "ArrowRight"].includes(event.key)) return;
      event.preventDefault();
      const all = tiles();
      const at = all.indexOf(item);
      if (event.key === "ArrowLeft" && at > 0) move(item, all[at - 1]);
      if (event.key === "ArrowRight" && at < all.length - 1) move(item, all[at + 2] || null);
    });
  }
  return item;
}

// Put `item` right before `before` (null: at the end), on the server, then on the page.
async function move(item, before) {
  const body = { ids: [Number(item.dataset.id)], before: before ? Number(before.dataset.id) : null };
  const answer = await api("PUT", `/albums/${albumId}/order`, { json: body });
  if (!answer.ok) return notice(answer.message, true);
  $("grid").insertBefore(item, before);
  item.focus();
  notice("");
}

async function removeImage(item) {
  const answer = await api("DELETE", `/albums/${albumId}/images`, { json: { ids: [Number(item.dataset.id)] } });
  if (!answer.ok) return notice(answer.message, true);
  item.remove();
  describe(answer.body);
}

function describe(album) {
  state.album = album;
  $("album-name").textContent = album.name;
  document.title = `pixtag: ${album.name}`;
  $("album-facts").textContent = album.kind === "smart" ? `smart album: ${album.query}` : `${album.image_count} image${album.image_count === 1 ? "" : "s"}`;
  $("album-description").textContent = album.description;
}

async function more() {
  let path = `/albums/${albumId}/images?limit=${PAGE}`;
  if (state.after) path += `&after=${encodeURIComponent(state.after)}`;
  const answer = await api("GET", path);
  if (!answer.ok) return notice(answer.message, true);
  const { items, totals } = unpack(answer.body);
  $("grid").append(...items.map(tile));
  state.after = totals.after || null;
  $("more").hidden = !state.after;
  $("empty").hidden = tiles().length > 0;
}

async function share() {
  const answer = await api("POST", `/albums/${albumId}/shares`, { json: {} });
  if (!answer.ok) return notice(answer.message, true);
  const link = document.createElement("a");
  link.href = answer.body.url;
  link.textContent = new URL(answer.body.url, location.href).href;
  link.id = "share-url";
  $("share-link").replaceChildren("Share link: ", link);
  $("share-link").hidden = false;
}

async function main() {
  const me = await start();
  if (!readable(me)) return notice("Sign in to see the album.");
  state.writable = canWrite(me);
  const answer = await api("GET", `/albums/${albumId}`);
  if (!answer.ok) {
    $("album-name").textContent = answer.status === 410 ? "This album was deleted" : "No such album";
    document.querySelectorAll(".write-only").forEach((element) => (element.hidden = true));
    return notice(answer.message, true);
  }
  describe(answer.body);
  if (answer.body.query_error) notice(answer.body.query_error, true);
  $("reorder-help").hidden = !(state.writable && answer.body.kind === "manual");
  $("share-album").addEventListener("click", share);
  $("more").addEventListener("click", more);
  await more();
  if (state.writable) writing();
}

main();
