// The review queue: groups of duplicates side by side; keep one (merging the others onto it,
// then deleting them) or dismiss the group as not duplicates.
import { api, canWrite, renditionUrls, showImage } from "./api.js";
import { $, byteSize, notice, readable, start } from "./chrome.js";

const grid = document.body.dataset.grid;
const PAGE = 20;
// The most images of one group shown and resolved at once (the API takes up to 99).
const SHOWN = 24;
const MATCHES = { bytes: "same file", pixels: "same pixels", perceptual: "same picture" };
const state = { next: null, writable: false, shown: 0 };

const size = byteSize;

function line(text, className = "") {
  const element = document.createElement("span");
  element.textContent = text;
  if (className) element.className = className;
  return element;
}

// The image the group should keep by default: the most pixels, then the largest file.
function best(images) {
  const pixels = (image) => (image.attachment ? image.attachment.width * image.attachment.height : 0);
  const bytes = (image) => (image.attachment ? image.attachment.size : 0);
  return [...images].sort((a, b) => pixels(b) - pixels(a) || bytes(b) - bytes(a) || a.image_id - b.image_id)[0];
}

function card(image, match, groupName, checked) {
  const item = document.createElement("li");
  item.className = "candidate";
  item.dataset.imageId = String(image.image_id);
  const link = document.createElement("a");
  link.href = `${grid}/images/${image.image_id}`;
  const img = document.createElement("img");
  img.alt = image.filename;
  link.append(img);
  showImage(img, renditionUrls(image, "thumb"));
  const file = image.attachment;
  const tags = image.tags.length ? image.tags.join(", ") : "no tags";
  item.append(
    link,
    line(`${image.filename} (image ${image.image_id})`, "name"),
    line(match ? (match.match === "perceptual" ? `${MATCHES[match.match]}, ${match.distance} bits apart` : MATCHES[match.match]) : "the group's first image", "match"),
    line(file ? `${file.width} \u00d7 ${file.height}, ${size(file.size)}, ${file.content_type}` : "no file"),
    line(`added ${new Date(image.created_at).toLocaleString()}`),
    line(tags, "candidate-tags"),
  );
  if (state.writable) {
    const label = document.createElement("label");
    const radio = document.createElement("input");
    radio.type = "radio";
    radio.name = groupName;
    radio.value = String(image.image_id);
    radio.checked = checked;
    const mark = () => item.parentElement.querySelectorAll(".candidate").forEach((c) => c.classList.toggle("kept", c === item));
    radio.addEventListener("change", mark);
    label.append(radio, " Keep this one");
    item.append(label);
    if (checked) item.classList.add("kept");
  }
  return item;
}

async function resolve(group, ids, message) {
  const keep = Number(group.querySelector("input[type=radio]:checked").value);
  const remove = ids.filter((other) => other !== keep);
  const answer = await api("POST", "/duplicates/resolve", { json: { keep, remove, merge: { tags: true, description: true } } });
  if (!answer.ok) return (message.textContent = answer.message);
  done(group, `Kept image ${keep}; merged and deleted image${remove.length === 1 ? "" : "s"} ${remove.join(", ")}.`);
}

async function dismiss(group, ids, message) {
  const answer = await api("POST", "/duplicates/dismiss", { json: { ids } });
  if (!answer.ok) return (message.textContent = answer.message);
  done(group, `Images ${ids.join(", ")} are not duplicates: they will not be listed again.`);
}

function done(group, text) {
  const item = document.createElement("li");
  item.className = "group resolved";
  item.setAttribute("role", "status");
  item.textContent = text;
  group.replaceWith(item);
  notice(text);
}

async function renderGroup(found, index) {
  const shown = [{ image_id: found.image_id }, ...found.duplicates].slice(0, SHOWN);
  const answers = await Promise.all(shown.map((m) => api("GET", `/images/${m.image_id}`)));
  const images = answers.filter((answer) => answer.ok).map((answer) => answer.body);
  if (images.length < 2) return null; // deleted meanwhile: nothing left to compare
  const matches = new Map(found.duplicates.map((m) => [m.image_id, m]));
  const kept = best(images);
  const group = document.createElement("li");
  group.className = "group";
  group.dataset.imageId = String(found.image_id);
  const title = document.createElement("h2");
  const more = found.size + 1 - images.length;
  title.textContent = `Image ${found.image_id} and ${found.size} duplicate${found.size === 1 ? "" : "s"}${more > 0 ? ` (${more} not shown)` : ""}`;
  const candidates = document.createElement("ul");
  candidates.className = "candidates";
  const name = `keep-${index}`;
  candidates.append(...images.map((image) => card(image, matches.get(image.image_id), name, image === kept)));
  group.append(title, candidates);
  if (state.writable) {
    const ids = images.map((image) => image.image_id);
    const message = document.createElement("p");
    message.className = "error";
    message.setAttribute("role", "alert");
    const actions = document.createElement("p");
    actions.className = "group-actions";
    const keep = document.createElement("button");
    keep.type = "button";
    keep.className = "keep";
    keep.textContent = "Keep the chosen one, merge and delete the others";
    keep.addEventListener("click", () => resolve(group, ids, message));
    const not = document.createElement("button");
    not.type = "button";
    not.className = "dismiss";
    not.textContent = "Not duplicates";
    not.addEventListener("click", () => dismiss(group, ids, message));
    actions.append(keep, not);
    group.append(actions, message);
  }
  return group;
}

async function more() {
  $("more").hidden = true;
  const after = state.next ? `&after=${encodeURIComponent(state.next)}` : "";
  const answer = await api("GET", `/duplicates?limit=${PAGE}${after}`);
  if (!answer.ok) return notice(answer.message, true);
  const groups = await Promise.all(answer.body.groups.map((found, i) => renderGroup(found, state.shown + i)));
  state.shown += answer.body.groups.length;
  $("groups").append(...groups.filter(Boolean));
  state.next = answer.body.next;
  $("more").hidden = !state.next;
  $("empty").hidden = $("groups").children.length > 0;
  $("count").textContent = state.next ? `${$("groups").children.length} groups shown, more to load` : `${$("groups").children.length} group${$("groups").children.length === 1 ? "" : "s"}`;
}

async function main() {
  const me = await start();
  $("search").addEventListener("submit", (event) => {
    event.preventDefault();
    location.href = `${grid}?q=${encodeURIComponent($("q").value.trim())}`;
  });
  if (!readable(me)) return notice("Sign in to see the duplicates.");
  state.writable = canWrite(me);
  $("more").addEventListener("click", more);
  await more();
}

main();
