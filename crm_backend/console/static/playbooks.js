// Playbook editor: each form PUTs its playbook as JSON (CSRF header from the page); errors are shown as the API
// words them, in the page language.
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var zh = document.documentElement.lang === "zh";

  function call(method, url, body) {
    return fetch(url, {
      method: method, credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept-Language": zh ? "zh" : "en"},
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (j) { return {ok: r.ok, body: j}; }); });
  }

  function json(text) { return text.trim() ? JSON.parse(text) : null; }

  document.querySelectorAll(".pb-form").forEach(function (form) {
    var out = form.querySelector(".pb-result");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var f = form.elements, body;
      try {
        body = {
          name_zh: f.name_zh.value, name_en: f.name_en.value, purpose: f.purpose.value,
          audience: json(f.audience.value) || {}, template_zh: f.template_zh.value, template_en: f.template_en.value,
          offer_kind: f.offer_kind.value, offer_points: Number(f.offer_points.value),
          coupon_value: Number(f.coupon_value.value), schedule: f.schedule.value, event: json(f.event.value),
          holdout_pct: Number(f.holdout_pct.value), window_days: Number(f.window_days.value), enabled: f.enabled.checked
        };
      } catch (e) {
        out.textContent = (zh ? "JSON 格式错误：" : "Invalid JSON: ") + e.message;
        return;
      }
      call("PUT", "/api/v1/playbooks/" + form.dataset.id, body).then(function (r) {
        out.textContent = r.ok ? (zh ? "已保存" : "Saved") : r.body.error.message;
      });
    });
    form.querySelector(".pb-run").addEventListener("click", function () {
      call("POST", "/api/v1/playbooks/" + form.dataset.id + "/run").then(function (r) {
        out.textContent = r.ok ? (zh ? "已排队 " : "Queued ") + r.body.queued + (zh ? "，对照组 " : ", holdout ") +
          r.body.holdout : r.body.error.message;
      });
    });
  });
})();
