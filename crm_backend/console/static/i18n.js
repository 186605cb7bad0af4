// UI strings of the console and dashboard (zh/en). The page's <html lang> picks the language.
"use strict";
window.KEFU_STRINGS = JSON.parse(document.getElementById("kefu-strings").textContent);  // from strings.json
window.kefuLang = function () { return document.documentElement.lang === "en" ? "en" : "zh"; };
window.t = function (key) { var s = window.KEFU_STRINGS[window.kefuLang()]; return (s && s[key]) || key; };
window.kefuApplyStrings = function (root) {
  (root || document).querySelectorAll("[data-i18n]").forEach(function (el) { el.textContent = t(el.dataset.i18n); });
  (root || document).querySelectorAll("[data-i18n-placeholder]").forEach(function (el) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  });
};
window.kefuApi = async function (method, path, body) {
  var headers = { "Accept": "application/json", "X-CSRF-Token": document.querySelector("meta[name=csrf-token]").content,
                  "Accept-Language": kefuLang() };
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
