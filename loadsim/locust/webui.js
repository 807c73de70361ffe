// loadsim's additions to Locust's page (loadsim/locust/webui.py adds this script and window.loadsimForm to it):
// the start form in groups with short labels and the help on hover, "users" named HA pairs, the options given at
// start shown read-only, the live charts under the Redis Cluster tab's table, and that table's final figures.
//
// Locust's page is a React application that keeps rendering the form and the tabs. This script never moves or
// removes React's elements: it sets labels, titles and the CSS `order` of the fields inside the parameters' flex
// column, and adds elements of its own beside them. It runs again whenever the page changes (a dialog opens, a tab
// is chosen) and does nothing when everything is already in place.
(function () {
  "use strict";
  const L = window.loadsimForm;
  if (!L) return;
  const GROUP_INDEX = Object.fromEntries(L.groups.map((g, i) => [g, i]));

  function addStyle() {
    if (document.getElementById("loadsim-style")) return;
    const style = document.createElement("style");
    style.id = "loadsim-style";
    style.textContent = `
      .loadsim-group { font-weight: 600; font-size: 15px; margin: 10px 0 -12px; padding-bottom: 2px;
                       border-bottom: 1px solid rgba(127,127,127,.4); text-transform: none; }
      .loadsim-fixed { display: flex; gap: 8px; align-items: baseline; font-size: 14px; opacity: .75;
                       padding: 6px 12px; border: 1px dashed rgba(127,127,127,.5); border-radius: 4px; }
      .loadsim-fixed-label { min-width: 11em; }
      .loadsim-fixed-value { font-family: monospace; overflow-wrap: anywhere; }
      .loadsim-fixed-note { margin-left: auto; font-size: 12px; white-space: nowrap; }
      iframe.loadsim-charts { width: 100%; height: 1250px; border: 0; margin-top: 12px; }
      .loadsim-field-error { color: #d32f2f; font-size: 13px; margin: 4px 2px 0; white-space: normal; }`;
    document.head.appendChild(style);
  }

  function setText(element, text) {
    if (element && element.textContent !== text) element.textContent = text;
  }

  function setLabel(item, text) {
    setText(item.querySelector("label.MuiInputLabel-root, .MuiFormControlLabel-label"), text);
    setText(item.querySelector("legend span"), text);  // the outline's notch is as wide as this text
  }

  function layoutForm(form) {
    for (const name of ["userCount", "spawnRate"]) {
      const input = form.querySelector(`input[name="${name}"]`);
      const item = input && input.closest(".MuiFormControl-root");
      if (item) {
        setLabel(item, L.fields[name].label);
        item.title = L.fields[name].help;
      }
    }
    // the parameters' flex column: the parent of the field element (MUI's FormControl) of any of loadsim's
    // text fields; its other children are the check boxes and selects
    const text = [...form.querySelectorAll("input[type=text][name]")]
      .find(e => L.fields[e.name] && L.fields[e.name].group !== null);
    const box = text && text.closest(".MuiFormControl-root") && text.closest(".MuiFormControl-root").parentElement;
    if (!box) return;
    for (const item of box.children) {
      const input = item.querySelector("[name]");
      const f = input && L.fields[input.name];
      if (!f || f.group === null) continue;
      item.style.order = String(1000 * GROUP_INDEX[f.group] + 10 + f.order);
      item.title = f.help;
      item.dataset.loadsimGroup = f.group;
      setLabel(item, f.label);
    }
    if (box.dataset.loadsim === "laid-out") return;
    box.dataset.loadsim = "laid-out";
    L.groups.forEach((g, i) => {
      const heading = document.createElement("div");
      heading.className = "loadsim-group";
      heading.dataset.group = g;
      heading.style.order = String(1000 * i);
      heading.textContent = g;
      box.appendChild(heading);
    });
    for (const f of L.fixed) {
      const row = document.createElement("div");
      row.className = "loadsim-fixed";
      row.dataset.loadsimGroup = f.group;
      row.style.order = String(1000 * GROUP_INDEX[f.group] + 10 + f.order);
      row.title = `${f.help}\n(${L.fixed_note})`;
      for (const [cls, text] of [["loadsim-fixed-label", f.label], ["loadsim-fixed-value", f.value],
                                 ["loadsim-fixed-note", "given at start"]]) {
        const span = document.createElement("span");
        span.className = cls;
        span.textContent = text;  // text, never HTML: the values are paths the user gave
        row.appendChild(span);
      }
      box.appendChild(row);
    }
  }

  function chartsInTab() {
    if (new URLSearchParams(location.search).get("tab") !== L.tab) return;
    const table = document.querySelector(".MuiTableContainer-root");
    if (!table || !table.parentElement || table.parentElement.querySelector("iframe.loadsim-charts")) return;
    const frame = document.createElement("iframe");
    frame.className = "loadsim-charts";
    frame.title = "Redis Cluster charts";
    frame.src = `${L.base}/loadsim/redis?embedded=1`;
    table.after(frame);
  }

  // Locust's page polls its statistics (and so this tab's table) only while a test spawns or runs; loadsim writes
  // the summary, and with it the sizing verdict and the final figures, after that. While the tab is open, the
  // page is reloaded once when they are there and the table still shows the live ones.
  let reloading = false;
  async function refreshWhenFinal() {
    if (reloading || new URLSearchParams(location.search).get("tab") !== L.tab) return;
    const cells = [...document.querySelectorAll(".MuiTableContainer-root td")];
    const verdict = cells.findIndex(c => c.innerText === "verdict");
    if (verdict < 0 || ["PASS", "FAIL"].includes(cells[verdict + 1].innerText)) return;
    try {
      const data = await (await fetch(`${L.base}/loadsim/redis/data`)).json();
      if (!data.running && data.final) {
        reloading = true;
        location.reload();
      }
    } catch (e) { /* the server is gone or busy: try again on the next round */ }
  }
  setInterval(refreshWhenFinal, 3000);

  // A refused start (loadsim/locust/webui.py: guard_swarm answers {success: false, message, loadsim_field}) is
  // shown under the field it names, scrolled into view and focused, not only at the bottom of a long page.
  function clearFieldErrors() {
    document.querySelectorAll(".loadsim-field-error").forEach(e => e.remove());
  }

  function showFieldError(field, message, focus = true) {
    const input = document.querySelector(`form [name="${field}"]`);
    const item = input && input.closest(".MuiFormControl-root");
    if (!item) return;
    const note = document.createElement("div");
    note.className = "loadsim-field-error";
    note.setAttribute("role", "alert");
    note.dataset.field = field;
    note.textContent = message;  // text, never HTML
    item.appendChild(note);
    if (!focus) return;
    item.scrollIntoView({block: "center"});
    input.focus({preventScroll: true});
  }

  // HA pairs and the ramp-up are checked as typed: Locust's page turns -1 HA pairs into 1 before it sends the
  // form, so the server never sees what was typed. These listeners run before the page's own (window, capture).
  const typedProblems = new Map();
  const SHAPE_CHECKS = {
    userCount: v => /^\s*\d+\s*$/.test(v) && Number(v) >= 1 ? null
      : `HA pairs: '${v}' is not a whole number of 1 or more; give e.g. 9`,
    spawnRate: v => v.trim() !== "" && Number.isFinite(Number(v)) && Number(v) > 0 ? null
      : `Ramp up: '${v}' is not a number of HA pairs per second above 0; give e.g. 9`,
  };
  window.addEventListener("input", event => {
    const input = event.target;
    const check = input && SHAPE_CHECKS[input.name];
    if (!check) return;
    const problem = check(input.value);
    document.querySelectorAll(`.loadsim-field-error[data-field="${input.name}"]`).forEach(e => e.remove());
    if (problem) {
      typedProblems.set(input.name, problem);
      showFieldError(input.name, problem, false);
    } else {
      typedProblems.delete(input.name);
    }
  }, true);
  window.addEventListener("submit", event => {
    if (!typedProblems.size) return;
    event.preventDefault();  // nothing is sent, so nothing starts
    event.stopImmediatePropagation();
    clearFieldErrors();
    for (const [field, problem] of typedProblems) showFieldError(field, problem);
  }, true);

  const pageFetch = window.fetch.bind(window);
  window.fetch = async function (resource, options) {
    const url = typeof resource === "string" ? resource : (resource && resource.url) || "";
    const method = ((options && options.method) || (resource && resource.method) || "GET").toUpperCase();
    if (method !== "POST" || !/(^|\/)swarm(\?|$)/.test(url.replace(location.origin, ""))) {
      return pageFetch(resource, options);
    }
    clearFieldErrors();
    const response = await pageFetch(resource, options);
    try {
      const reply = await response.clone().json();
      if (reply && reply.success === false && reply.loadsim_field) showFieldError(reply.loadsim_field, reply.message);
    } catch (e) { /* not JSON: Locust shows what it got */ }
    return response;
  };

  let pending = false;
  function update() {
    pending = false;
    addStyle();
    document.querySelectorAll("form").forEach(layoutForm);
    chartsInTab();
  }
  new MutationObserver(() => {
    if (!pending) {
      pending = true;
      requestAnimationFrame(update);
    }
  }).observe(document.body, {childList: true, subtree: true});
  update();
})();
