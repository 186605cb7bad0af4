// UI strings of the console and dashboard (zh/en). The page's <html lang> picks the language.
"use strict";
window.KEFU_STRINGS = JSON.parse(document.getElementById("kefu-strings").textContent);  // from strings.json
window.kefuLang = function () { return document.documentElement.lang === "en" ? "en" : "zh"; };
window.t = function (key) { var s = window.KEFU_STRINGS[window.kefuLang()]; return (s && s[key]) || key; };
// An enum value, boolean or code in the page language: strings.json holds it as "<kind>_<value>"
// (priority_urgent, bool_true, ...); a value without a label shows as it is rather than vanish.
window.kefuLabel = function (kind, value) {
  if (value === null || value === undefined || value === "") return "—";
  var key = kind + "_" + String(value), s = window.KEFU_STRINGS[window.kefuLang()];
  return (s && s[key]) || String(value);
};
// Dates in the page language's order and the browser's time zone; `dayOnly` for a YYYY-MM-DD day.
window.kefuDate = function (iso, dayOnly) {
  if (!iso) return "—";
  var date = new Date(dayOnly && iso.length === 10 ? iso + "T00:00:00" : iso);
  if (isNaN(date.getTime())) return String(iso);
  var options = dayOnly ? { year: "numeric", month: "2-digit", day: "2-digit" }
                        : { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false };
  return new Intl.DateTimeFormat(window.kefuLang() === "zh" ? "zh-CN" : "en-GB", options).format(date);
};
// "{name}" placeholders of a string filled from `values`.
window.tf = function (key, values) {
  return t(key).replace(/\{(\w+)\}/g, function (m, name) { return name in values ? String(values[name]) : m; });
};
// Previous / next buttons and "1–20 of 345" under a paged table; `go(offset)` loads another page.
window.kefuPager = function (box, page, go) {
  box.innerHTML = "";
  var last = Math.min(page.offset + page.items.length, page.total);
  box.appendChild(kefuEl("button", { type: "button", "data-testid": "page-prev", text: t("page_prev"),
    onclick: function () { go(Math.max(0, page.offset - page.limit)); } }));
  box.appendChild(kefuEl("span", { class: "page-range", "data-testid": "page-range",
    text: tf("page_range", { from: page.total ? page.offset + 1 : 0, to: last, total: page.total }) }));
  box.appendChild(kefuEl("button", { type: "button", "data-testid": "page-next", text: t("page_next"),
    onclick: function () { go(page.offset + page.limit); } }));
  box.firstChild.disabled = page.offset <= 0;
  box.lastChild.disabled = last >= page.total;
};
window.kefuApplyStrings = function (root) {
  (root || document).querySelectorAll("[data-i18n]").forEach(function (el) { el.textContent = t(el.dataset.i18n); });
  (root || document).querySelectorAll("[data-i18n-placeholder]").forEach(function (el) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  });
};
window.kefuApi = async function (method, path, body, extraHeaders) {
  var headers = Object.assign({ "Accept": "application/json", "X-CSRF-Token": document.querySelector("meta[name=csrf-token]").content,
                                "Accept-Language": kefuLang() }, extraHeaders || {});
  if (body !== undefined) headers["Content-Type"] = "application/json";
  var response = await fetch("/api/v1" + path, { method: method, headers: headers, credentials: "same-origin",
                                                  body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 401) { window.location = "/console/login"; throw new Error("unauthorized"); }
  var data = response.status === 204 ? null : await response.json().catch(function () { return null; });
  if (!response.ok) {
    var error = new Error((data && data.error && data.error.message) || t("error"));
    error.status = response.status; throw error;
  }
  return data;
};
window.kefuEl = function (tag, attrs, children) {
  var el = document.createElement(tag);
  Object.entries(attrs || {}).forEach(function (kv) {
    if (kv[0] === "text") el.textContent = kv[1];
    else if (kv[0] === "class") el.className = kv[1];
    else if (kv[0].startsWith("on")) el.addEventListener(kv[0].slice(2), kv[1]);
    else el.setAttribute(kv[0], kv[1]);
  });
  (children || []).forEach(function (c) { if (c) el.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
  return el;
};
