// What every page shares: sign-in, the search box with tag autocomplete, the keyboard.
import { canWrite, setToken, suggestNames, suggestTags, token, whoAmI } from "./api.js";

const $ = (id) => document.getElementById(id);

export function notice(text, isError = false) {
  const element = $("notice");
  element.textContent = text;
  element.classList.toggle("error", isError);
  element.hidden = !text;
}

// A camera: or lens: term being typed at the end of `text` (camera:fu, lens:"ef 3), if any.
const FACT = /(^|[\s(-])(camera|lens):(?:"([^"]*)|([^\s"()]*))$/i;

// A size in binary units as the viewer's locale writes numbers ("1.5 MiB", "1,5 MiB").
export function byteSize(bytes) {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toLocaleString(undefined, { maximumFractionDigits: unit ? 1 : 0 })} ${units[unit]}`;
}

// A moment as the viewer's locale and time zone write it, the exact value on hover.
export function timeElement(iso) {
  const element = document.createElement("time");
  element.dateTime = iso;
  element.title = iso;
  element.textContent = new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  return element;
}

// The tags typed or pasted in a tag box: separated by commas or new lines, so that a tag
// keeps its spaces ("summer 2026"); empty entries dropped.
export function tagEntries(text) {
  return text
    .split(/[,\n\r]+/)
    .map((entry) => entry.trim())
    .filter(Boolean);
}

// In a tag box, a tag is committed by Enter, Tab (when something is typed) or a comma, and
// a paste of several (commas, new lines) commits them all: `commit(entries)` is called.
export function tagBox(input, commit) {
  input.addEventListener("keydown", (event) => {
    const typed = input.value.trim();
    if (event.defaultPrevented) return; // a suggestion was picked
    if ((event.key === "," || (event.key === "Tab" && !event.shiftKey)) && typed) {
      event.preventDefault();
      commit(tagEntries(input.value));
    }
  });
  input.addEventListener("paste", (event) => {
    const text = event.clipboardData?.getData("text") ?? "";
    if (!/[,\n\r]/.test(text)) return; // one tag: the input takes it as it is
    event.preventDefault();
    commit(tagEntries(`${input.value},${text}`));
  });
}

// Complete the last word of `input` with tags (keeping a leading '-' or '('), as one types;
// in the search box (`facts`), a camera: or lens: term with the names the photos have. In a
// tag box (`separator: ","`), the last comma-separated entry is completed instead.
export function autocomplete(input, list, { onPick, facts = false, separator = null } = {}) {
  let asked = 0;
  let active = -1;
  const close = () => {
    list.hidden = true;
    list.replaceChildren();
    active = -1;
  };
  const words = () => input.value.split(separator ? /(,\s*)/ : /(\s+)/);
  const pick = (tag) => {
    const parts = words();
    const last = parts[parts.length - 1];
    const sign = last.match(separator ? /^\s*-?/ : /^[-(]*/)[0];
    parts[parts.length - 1] = sign + tag;
    input.value = parts.join("") + (separator ? ", " : " ");
    close();
    input.focus();
    if (onPick) onPick(tag);
  };
  // The term for a name: what the search box then holds up to the caret.
  const pickName = (term) => {
    const match = input.value.match(FACT);
    input.value = input.value.slice(0, match.index + match[1].length) + term + " ";
    close();
    input.focus();
  };
  const show = (entries, choose) => {
    list.replaceChildren(
      ...entries.map(({ label, count, value }) => {
        const item = document.createElement("li");
        item.setAttribute("role", "option");
        item.dataset.tag = value;
        const name = document.createElement("span");
        name.textContent = label;
        item.append(name);
        if (count !== undefined) {
          const counted = document.createElement("span");
          counted.className = "tag-count";
          counted.textContent = String(count);
          item.append(counted);
        }
        item.addEventListener("mousedown", (event) => {
          event.preventDefault();
          choose(value);
        });
        return item;
      }),
    );
    chosen = choose;
    active = -1;
    list.hidden = false;
  };
  let chosen = pick;
  input.addEventListener("input", async () => {
    const mine = ++asked;
    const fact = facts && input.value.match(FACT);
    if (fact) {
      const kind = fact[2].toLowerCase();
      const names = await suggestNames(kind === "camera" ? "cameras" : "lenses", fact[3] ?? fact[4]);
      if (mine !== asked) return;
      if (!names.length) return close();
      const entries = names.map((name) => ({ label: name, value: `${kind}:"${name.replace(/["\\]/g, "\\$&")}"` }));
      return show(entries, pickName);
    }
    const parts = words();
    const last = parts[parts.length - 1];
    const prefix = separator ? last.trim().replace(/^-/, "") : last.replace(/^[-(]+/, "");
    if (!prefix || /["*)]/.test(prefix) || /^(sort|text|taken|similar|camera|lens|iso|focal|width|height|orientation|has|near):/i.test(prefix)) return close();
    const tags = await suggestTags(prefix);
    if (mine !== asked) return;
    if (!tags.length) return close();
    show(tags.map(({ tag, image_count }) => ({ label: tag, count: image_count, value: tag })), pick);
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
      chosen(items[active].dataset.tag);
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
  // The page shows its writing controls (writing()) once it has wired them: a click on one
  // before would do nothing.
  if (!canWrite(me)) document.body.classList.add("no-write");
  document.body.dataset.scope = me.scope || "none";
  setUpAuth(me);
  const search = $("q");
  autocomplete(search, $("suggestions"), { facts: true });
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

// Show the page's writing controls, now that they work.
export function writing() {
  document.body.classList.remove("no-write");
}

export const readable = (me) => !me.auth_required || me.authenticated || me.anonymous_read;
export { $ };
