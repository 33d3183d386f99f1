// What every page shares: sign-in, the search box with tag autocomplete, the keyboard.
import { canWrite, setToken, suggestTags, token, whoAmI } from "./api.js";

const $ = (id) => document.getElementById(id);

export function notice(text, isError = false) {
  const element = $("notice");
  element.textContent = text;
  element.classList.toggle("error", isError);
  element.hidden = !text;
}

// Complete the last word of `input` with tags (keeping a leading '-' or '('), as one types.
export function autocomplete(input, list, { onPick } = {}) {
  let asked = 0;
  let active = -1;
  const close = () => {
    list.hidden = true;
    list.replaceChildren();
    active = -1;
  };
  const words = () => input.value.split(/(\s+)/);
  const pick = (tag) => {
    const parts = words();
    const last = parts[parts.length - 1];
    const sign = last.match(/^[-(]*/)[0];
    parts[parts.length - 1] = sign + tag;
    input.value = parts.join("") + " ";
    close();
    input.focus();
    if (onPick) onPick(tag);
  };
  input.addEventListener("input", async () => {
    const parts = words();
    const prefix = parts[parts.length - 1].replace(/^[-(]+/, "");
    const mine = ++asked;
    if (!prefix || /["*)]/.test(prefix) || prefix.startsWith("sort:")) return close();
    const tags = await suggestTags(prefix);
    if (mine !== asked) return;
    if (!tags.length) return close();
    list.replaceChildren(
      ...tags.map(({ tag, image_count }) => {
        const item = document.createElement("li");
        item.setAttribute("role", "option");
        item.dataset.tag = tag;
        const name = document.createElement("span");
        name.textContent = tag;
        const count = document.createElement("span");
        count.className = "tag-count";
        count.textContent = String(image_count);
        item.append(name, count);
        item.addEventListener("mousedown", (event) => {
          event.preventDefault();
          pick(tag);
        });
        return item;
      }),
    );
    active = -1;
    list.hidden = false;
  });
  input.addEventListener("keydown", (event) => {
    const items = [...list.children];
    if (list.hidden || !items.length) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      active = (active + (event.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
      items.forEach((item, i) => item.classList.toggle("active", i === active));
    } else if ((event.key === "Enter" || event.key === "Tab") && active >= 0) {
      event.preventDefault();
      pick(items[active].dataset.tag);
    } else if (event.key === "Escape") {
      event.stopPropagation();
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
  return close;
}

// A tag as one term of the q language (quoted when a bare word would mean something else).
export function term(tag) {
  return /^[^\s()"*-][^\s()"*]*$/.test(tag) && tag !== "or" && !tag.startsWith("sort:")
    ? tag
    : `"${tag.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function setUpAuth(me) {
  const dialog = $("sign-in");
  const open = () => {
    $("sign-in-error").textContent = me.error || "";
    dialog.showModal();
    $("token").focus();
  };
  $("sign-in-open").addEventListener("click", open);
  $("sign-in-cancel").addEventListener("click", () => dialog.close());
  $("sign-out").addEventListener("click", () => {
    setToken(null);
    location.reload();
  });
  $("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    setToken($("token").value.trim());
    const checked = await whoAmI();
    if (!checked.authenticated) {
      setToken(null);
      $("sign-in-error").textContent = checked.error || "This token is not accepted.";
      return;
    }
    location.reload();
  });
  $("sign-in-open").hidden = !me.auth_required;
  $("sign-out").hidden = !token();
  if (me.authenticated) $("who").textContent = `${me.name || "signed in"} (${me.scope})`;
  else if (me.auth_required) $("who").textContent = me.anonymous_read ? "read only" : "";
  if (me.error && token()) setToken(null);
  if (me.auth_required && !me.authenticated && (!me.anonymous_read || me.error)) open();
}

// Set the page up; resolves with who the user is once the chrome is ready.
export async function start() {
  const me = await whoAmI();
  document.body.classList.toggle("no-write", !canWrite(me));
  document.body.dataset.scope = me.scope || "none";
  setUpAuth(me);
  const search = $("q");
  autocomplete(search, $("suggestions"));
  document.addEventListener("keydown", (event) => {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
    if (event.key === "/" && !typing) {
      event.preventDefault();
      search.focus();
      search.select();
    } else if (event.key === "Escape" && typing) {
      document.activeElement.blur();
    }
  });
  return me;
}

export const readable = (me) => !me.auth_required || me.authenticated || me.anonymous_read;
export { $ };
