// The albums: a card for each (its cover, name, what it holds), and a form to make one.
import { api, canWrite, showImage, unpack } from "./api.js";
import { $, notice, readable, start, writing } from "./chrome.js";

const grid = document.body.dataset.grid;

function card(album) {
  const item = document.createElement("li");
  item.className = "album-card";
  item.dataset.albumId = String(album.album_id);
  const link = document.createElement("a");
  link.href = `${grid}/albums/${album.album_id}`;
  const img = document.createElement("img");
  img.alt = "";
  img.width = 160;
  img.height = 160;
  if (album.cover_id) showImage(img, [`/images/${album.cover_id}/renditions/thumb`]);
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = album.name;
  const facts = document.createElement("span");
  facts.className = "facts";
  facts.textContent = album.kind === "smart" ? `smart: ${album.query}` : `${album.image_count} image${album.image_count === 1 ? "" : "s"}`;
  link.append(img, name);
  item.append(link, facts);
  return item;
}

async function load() {
  const answer = await api("GET", "/albums");
  if (!answer.ok) return notice(answer.message, true);
  const { items } = unpack(answer.body);
  $("albums").replaceChildren(...items.map(card));
  $("empty").hidden = items.length > 0;
}

async function main() {
  const me = await start();
  if (!readable(me)) return notice("Sign in to see the albums.");
  if (canWrite(me)) {
    $("new-album").addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { name: $("new-album-name").value.trim() };
      const query = $("new-album-query").value.trim();
      if (query) body.query = query;
      const answer = await api("POST", "/albums", { json: body });
      if (!answer.ok) return notice(answer.message, true);
      location.href = `${grid}/albums/${answer.body.album_id}`;
    });
    writing();
  }
  await load();
}

main();
