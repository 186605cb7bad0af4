// Knowledge-base editor: list, edit with optimistic concurrency (version), preview, publish, figures.
(function () {
  "use strict";
  const api = "/api/v1/knowledge";
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const zh = document.querySelector("main.kb").dataset.lang === "zh";
  const form = document.getElementById("kb-form");
  const message = document.getElementById("kb-message");
  let current = null; // {id, version} of the article being edited

  async function call(method, path, body) {
    const response = await fetch(api + path, {
      method, credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept-Language": zh ? "zh" : "en"},
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = (response.headers.get("content-type") || "").includes("json") ? await response.json() : null;
    if (!response.ok) {
      const error = new Error(data && data.error ? data.error.message : response.statusText);
      error.details = data && data.error ? data.error.details : null;
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function say(text) { message.textContent = text; }

  function item(article) {
    const li = document.createElement("li");
    const link = document.createElement("a");
    link.href = "#";
    link.textContent = `${article.title_zh || article.title_en || article.slug} · ${kefuLabel("kb", article.status)}`;
    link.dataset.slug = article.slug;
    link.addEventListener("click", (event) => { event.preventDefault(); open(article.id); });
    li.appendChild(link);
    return li;
  }

  async function refresh() {
    const q = document.getElementById("kb-filter").value.trim();
    const page = await call("GET", `/articles?limit=200${q ? "&q=" + encodeURIComponent(q) : ""}`);
    const list = document.getElementById("kb-articles");
    list.replaceChildren(...page.items.map(item));
  }

  function fill(article) {
    current = article ? {id: article.id, version: article.version} : null;
    form.slug.value = article ? article.slug : "";
    form.slug.readOnly = Boolean(article);
    form.category.value = article ? article.category : "general";
    form.tags.value = article ? article.tags.join(", ") : "";
    for (const code of ["zh", "en"]) {
      const version = article && article[code];
      form[code + "_title"].value = version ? version.title : "";
      form[code + "_body"].value = version ? version.body : "";
      form[code + "_questions"].value = version ? version.questions.join("\n") : "";
      document.getElementById("kb-preview-" + code).innerHTML = version ? version.html : "";
    }
    document.getElementById("kb-status").textContent = article ? `${kefuLabel("kb", article.status)} · v${article.version}` : t("kb_new");
  }

  async function open(id) { fill(await call("GET", `/articles/${id}`)); say(""); }

  function versions() {
    const out = {};
    for (const code of ["zh", "en"]) {
      const title = form[code + "_title"].value, body = form[code + "_body"].value;
      const questions = form[code + "_questions"].value.split("\n").map((q) => q.trim()).filter(Boolean);
      out[code] = title.trim() || body.trim() ? {title, body, questions} : null;
    }
    return out;
  }

  async function preview() {
    for (const code of ["zh", "en"]) {
      const result = await call("POST", "/preview", {body: form[code + "_body"].value});
      document.getElementById("kb-preview-" + code).innerHTML = result.html; // server-sanitised HTML
    }
  }

  async function save(event) {
    event.preventDefault();
    const tags = form.tags.value.split(/[,，]/).map((t) => t.trim()).filter(Boolean);
    try {
      const article = current
        ? await call("PUT", `/articles/${current.id}`, {version: current.version, category: form.category.value, tags, ...versions()})
        : await call("POST", "/articles", {slug: form.slug.value, category: form.category.value, tags, ...versions()});
      fill(article);
      say(zh ? "已保存" : "Saved");
      refresh();
    } catch (error) {
      if (error.status === 409 && error.details && error.details.diff) {
        const fields = error.details.diff.fields || {};
        say(error.message + "\n\n" + Object.values(fields).join("\n\n"));
      } else {
        say(error.message);
      }
    }
  }

  async function status(value) {
    if (!current) return;
    try {
      fill(await call("POST", `/articles/${current.id}/status`, {version: current.version, status: value}));
      say(value === "published" ? (zh ? "已发布" : "Published") : (zh ? "已撤回" : "Unpublished"));
      refresh();
    } catch (error) { say(error.message); }
  }

  function addQuestion(language, query) {
    if (!current) { say(zh ? "请先打开要补充问法的文章" : "Open the article that answers it first"); return; }
    const box = form[language + "_questions"];
    const lines = box.value.split("\n").map((q) => q.trim()).filter(Boolean);
    if (!lines.includes(query)) box.value = [...lines, query].join("\n");
    say(zh ? "已加入问法，保存后生效" : "Added to the questions; save to apply");
  }

  function button(testid, text, onClick) {
    const b = document.createElement("button");
    b.type = "button"; b.dataset.testid = testid; b.textContent = text;
    b.addEventListener("click", onClick);
    return b;
  }

  // The bot declines a recorded question (and ones close to it) instead of answering with the nearest article,
  // until an article is saved after it was recorded.
  async function recordUnanswered(language, question) {
    try {
      await call("POST", "/unanswered", {language, question});
      say(zh ? "已记录：机器人将不再用现有文章回答这个问题" : "Recorded: the bot no longer answers this with an existing article");
      stats();
    } catch (error) { say(error.message); }
  }

  async function removeUnanswered(id) {
    try { await call("DELETE", `/unanswered/${id}`); stats(); } catch (error) { say(error.message); }
  }

  function notAnsweredButton(language, question) {
    return button("kb-record-unanswered", zh ? "记为知识库不回答" : "Not answered here",
                  () => recordUnanswered(language, question));
  }

  async function stats() {
    const [data, recorded] = await Promise.all([call("GET", "/stats"), call("GET", "/unanswered")]);
    const rows = data.articles.slice(0, 30).map((a) => {
      const tr = document.createElement("tr");
      for (const value of [a.slug, a.views, a.answers, a.helpful, a.not_helpful]) {
        const td = document.createElement("td"); td.textContent = value; tr.appendChild(td);
      }
      return tr;
    });
    document.querySelector("#kb-stats tbody").replaceChildren(...rows);
    document.getElementById("kb-gaps").replaceChildren(...data.gaps.map((g) => {
      const li = document.createElement("li"); li.textContent = `${g.query} (${kefuLabel("lang", g.language)}) × ${g.count} `;
      // A gap is often an article customers word differently: one click lists their words as its question.
      const add = button("kb-gap-add", zh ? "加为当前文章的问法" : "Add to this article's questions",
                         () => addQuestion(g.language, g.query));
      li.append(add, notAnsweredButton(g.language, g.query)); return li;
    }));
    // Customers said the answer did not help: the article usually lacks what was asked. Open it to add that.
    document.getElementById("kb-unhelpful").replaceChildren(...data.unhelpful.map((u) => {
      const li = document.createElement("li");
      li.textContent = `${u.query} (${kefuLabel("lang", u.language)}) → ${u.slug} × ${u.count} `;
      const edit = button("kb-unhelpful-open", zh ? "打开这篇文章" : "Open the article",
                          async () => { await open(u.article_id); form.scrollIntoView(); });
      li.append(edit, notAnsweredButton(u.language, u.query)); return li;
    }));
    document.getElementById("kb-unanswered").replaceChildren(...recorded.slice(0, 50).map((r) => {
      const li = document.createElement("li");
      li.textContent = `${r.question} (${kefuLabel("lang", r.language)}) `;
      li.appendChild(button("kb-unanswered-remove", zh ? "移除" : "Remove", () => removeUnanswered(r.id)));
      return li;
    }));
  }

  form.addEventListener("submit", save);
  document.getElementById("kb-preview").addEventListener("click", preview);
  document.getElementById("kb-publish").addEventListener("click", () => status("published"));
  document.getElementById("kb-unpublish").addEventListener("click", () => status("draft"));
  document.getElementById("kb-new").addEventListener("click", () => { fill(null); say(""); });
  document.getElementById("kb-filter").addEventListener("input", refresh);
  refresh(); stats();
})();
