// Progressive enhancement only: every page works without this file.
"use strict";

// Copy buttons: <button data-copy="#selector">.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(() => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  });
});

// The team switcher submits on change; its button stays for browsers without JavaScript.
document.addEventListener("change", (event) => {
  const form = event.target.closest("form[data-autosubmit]");
  if (form) form.submit();
});

// The heartbeat list follows status changes: every few seconds it asks /heartbeats/statuses
// and updates each row's status, last ping and next due in place (and the filter counts). It
// does not ask while the tab is hidden, and stops when the session has ended.
(() => {
  const table = document.querySelector("[data-heartbeats]");
  if (!table || !window.fetch) return;
  const PERIOD_MS = 5000;
  let timer = null;
  let inFlight = false;
  let stopped = false;

  const setText = (element, text) => {
    if (!element || element.textContent === text) return;
    element.textContent = text;
    // The server sends words ("3 min ago"), not the instant: drop the stale machine time.
    element.removeAttribute("datetime");
  };

  const apply = (heartbeats) => {
    const counts = { all: heartbeats.length };
    for (const hb of heartbeats) {
      counts[hb.status] = (counts[hb.status] || 0) + 1;
      const row = table.querySelector(`tr[data-heartbeat-id="${CSS.escape(hb.id)}"]`);
      if (!row) continue;
      const status = row.querySelector("[data-status]");
      if (status && status.getAttribute("data-status") !== hb.status) {
        status.setAttribute("data-status", hb.status);
        status.textContent = hb.status_label;
      }
      setText(row.querySelector("[data-last-ping]"), hb.last_ping);
      setText(row.querySelector("[data-next-due]"), hb.next_due);
    }
    for (const filter of document.querySelectorAll("[data-filter]")) {
      const count = filter.querySelector("[data-count]");
      if (count) count.textContent = String(counts[filter.dataset.filter] || 0);
    }
  };

  const poll = async () => {
    timer = null;
    if (stopped || inFlight || document.hidden) return;
    inFlight = true;
    try {
      const response = await fetch("/heartbeats/statuses", {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.status === 401 || response.status === 403) {
        stopped = true;
        return;
      }
      if (response.ok) apply((await response.json()).heartbeats || []);
    } catch (_) {
      // Offline for a moment: the next poll tries again.
    } finally {
      inFlight = false;
    }
    schedule();
  };

  const schedule = () => {
    if (!stopped && timer === null && !document.hidden) timer = setTimeout(poll, PERIOD_MS);
  };

  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    } else if (timer === null && !inFlight) {
      poll();
    }
  });
  schedule();
})();
