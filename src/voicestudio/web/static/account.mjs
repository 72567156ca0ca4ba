// Accounts on the page: signing in or up, the quota line in the top bar, and the account page (plan, what is
// left of it, each training's cost, API tokens, export, sign out, delete). A studio without accounts shows none.

import { api, setCsrfToken } from "./api.mjs";
import { h, showError } from "./dom.mjs";

let refreshing = null;

/** "1.2 MB" for a byte count. */
export function bytesText(n) {
  if (n < 1000) return `${n} bytes`;
  for (const [unit, scale] of [["GB", 1e9], ["MB", 1e6], ["kB", 1e3]]) {
    if (n >= scale) return `${(n / scale).toFixed(1)} ${unit}`;
  }
  return `${n} bytes`;
}

/** "3 of 5" or "3" when the plan sets no limit. */
const ofLimit = (used, limit, show = (x) => x) => (limit === null ? `${show(used)}` : `${show(used)} of ${show(limit)}`);

/** The quota line of the top bar: projects, storage and GPU minutes left. */
export function quotaText(account) {
  const { plan, usage } = account;
  const parts = [
    `${plan.title}: ${ofLimit(usage.projects, plan.max_projects)} projects`,
    `${ofLimit(usage.storage_bytes, plan.storage_bytes, bytesText)} stored`,
  ];
  if (plan.neural_training && usage.gpu_minutes_left !== null) parts.push(`${usage.gpu_minutes_left.toFixed(0)} GPU min left`);
  return parts.join(" · ");
}

/** Ask who is signed in, keep the CSRF token, show the quota line; quiet when the server is unreachable. */
export function refreshAccount() {
  if (refreshing) return refreshing;
  refreshing = (async () => {
    const line = document.querySelector("[data-testid=quota-line]");
    const link = document.querySelector("[data-testid=nav-account]");
    try {
      const account = await api.account();
      setCsrfToken(account.csrf_token);
      const signedIn = account.accounts && account.email !== null;
      link.hidden = !signedIn;
      line.hidden = !signedIn;
      if (signedIn) line.textContent = quotaText(account);
      return account;
    } catch {
      link.hidden = true;
      line.hidden = true;
      return null;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

function credentialsForm({ title, testid, submitLabel, autocomplete, onSubmit }) {
  const email = h("input", { type: "email", name: "email", required: true, autocomplete: "email", "data-testid": `${testid}-email` });
  const password = h("input", { type: "password", name: "password", required: true, minlength: "8", autocomplete, "data-testid": `${testid}-password` });
  const form = h("form", { class: "card", "data-testid": testid },
    h("h2", {}, title),
    h("label", {}, "E-mail ", email),
    h("label", {}, "Password ", password),
    h("button", { type: "submit", "data-testid": `${testid}-submit` }, submitLabel));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const account = await onSubmit(email.value.trim(), password.value);
      setCsrfToken(account.csrf_token);
      location.hash = "#/";
    } catch (error) {
      showError(error);
    }
  });
  return form;
}

export const signInPage = {
  async mount(root) {
    root.append(h("section", { class: "sign-in", "data-testid": "sign-in-page" },
      credentialsForm({ title: "Sign in", testid: "sign-in", submitLabel: "Sign in", autocomplete: "current-password",
        onSubmit: api.signIn }),
      credentialsForm({ title: "New here? Create an account", testid: "sign-up", submitLabel: "Create account",
        autocomplete: "new-password", onSubmit: api.signUp })));
    return {};
  },
};

function factsList(account) {
  const { plan, usage } = account;
  const meter = (used, limit, text) => [
    limit ? h("progress", { max: String(limit), value: String(Math.min(used, limit)) }) : null,
    text,
  ];
  return h("dl", { class: "account-facts", "data-testid": "account-facts" },
    h("dt", {}, "E-mail"), h("dd", { "data-testid": "account-email" }, account.email),
    h("dt", {}, "Plan"), h("dd", { "data-testid": "account-plan" }, plan.title),
    h("dt", {}, "Projects"), h("dd", { "data-testid": "quota-projects" },
      meter(usage.projects, plan.max_projects, ofLimit(usage.projects, plan.max_projects))),
    h("dt", {}, "Storage"), h("dd", { "data-testid": "quota-storage" },
      meter(usage.storage_bytes, plan.storage_bytes, ofLimit(usage.storage_bytes, plan.storage_bytes, bytesText))),
    h("dt", {}, "Neural voices"), h("dd", { "data-testid": "quota-gpu" },
      plan.neural_training
        ? `${usage.gpu_minutes_used.toFixed(1)} GPU minutes used this month` +
          (usage.gpu_minutes_left === null ? "" : `, ${usage.gpu_minutes_left.toFixed(1)} left`)
        : "not in this plan (UTAU voicebanks only)"));
}

function costTable(usage) {
  if (usage.trainings.length === 0) return h("p", { class: "muted", "data-testid": "no-trainings" }, "No trainings yet.");
  const money = (usd) => `$${usd.toFixed(2)}`;
  return h("table", { class: "cost-table", "data-testid": "training-costs" },
    h("caption", { class: "muted" }, `At ${money(usage.gpu_price_per_hour_usd)} per GPU-hour.`),
    h("thead", {}, h("tr", {}, ["Project", "State", "Device", "GPU time", "Cost"].map((t) => h("th", {}, t)))),
    h("tbody", {}, usage.trainings.map((t) => h("tr", { "data-testid": "training-cost", "data-job-id": t.job_id },
      h("td", {}, t.project_name ?? "(deleted)"),
      h("td", {}, t.state),
      h("td", {}, t.device ?? "—"),
      h("td", {}, `${(t.gpu_s / 60).toFixed(1)} min`),
      h("td", { "data-testid": "training-cost-usd" }, money(t.cost_usd))))));
}

function tokensCard() {
  const list = h("ul", { "data-testid": "token-list" });
  const shown = h("p", { class: "new-token", "data-testid": "new-token", hidden: true });
  const name = h("input", { name: "token-name", value: "voicestudio CLI", "data-testid": "token-name" });
  const show = async () => {
    const tokens = await api.tokens();
    list.replaceChildren(...tokens.map((t) => h("li", { "data-testid": "token-row" },
      `${t.name} · made ${new Date(t.created_at).toLocaleDateString()} · `,
      t.last_used_at ? `last used ${new Date(t.last_used_at).toLocaleDateString()} ` : "never used ",
      h("button", { type: "button", class: "secondary", "data-testid": "token-revoke",
        onclick: async () => { try { await api.revokeToken(t.id); await show(); } catch (e) { showError(e); } } }, "Revoke"))));
  };
  const create = h("button", { type: "button", "data-testid": "token-create", onclick: async () => {
    try {
      const made = await api.createToken(name.value.trim() || "voicestudio CLI");
      shown.textContent = `Copy it now, it is shown once: ${made.token}`;
      shown.hidden = false;
      await show();
    } catch (error) {
      showError(error);
    }
  } }, "New API token");
  show().catch(showError);
  return h("section", { class: "card", "data-testid": "tokens" },
    h("h3", {}, "API tokens"),
    h("p", { class: "muted" }, "For the command line (voicestudio login makes one for you) and scripts."),
    list, h("div", { class: "buttons" }, name, create), shown);
}

function deleteCard() {
  const password = h("input", { type: "password", autocomplete: "current-password", "data-testid": "delete-password" });
  const button = h("button", { type: "button", "data-testid": "delete-account" }, "Delete my account and all its data");
  button.addEventListener("click", async () => {
    if (!confirm("Delete your account, every project, take, voicebank and voice? This cannot be undone.")) return;
    try {
      await api.deleteAccount(password.value);
      setCsrfToken(null);
      location.hash = "#/sign-in";
    } catch (error) {
      showError(error);
    }
  });
  return h("section", { class: "card danger", "data-testid": "delete-card" },
    h("h3", {}, "Delete the account"),
    h("p", {}, "Download the export first if you want to keep anything."),
    h("label", {}, "Password ", password), button);
}

export const accountPage = {
  async mount(root) {
    const [account, usage] = await Promise.all([api.account(), api.usage()]);
    if (!account.accounts) {
      root.append(h("section", { class: "card", "data-testid": "account-page" },
        h("h2", {}, "This studio"),
        h("p", {}, "This studio runs without accounts: everything here is yours."),
        h("a", { href: api.exportUrl(), download: "", "data-testid": "export-link" }, "⬇ Export all data (zip)"),
        costTable(usage)));
      return {};
    }
    const signOut = h("button", { type: "button", class: "secondary", "data-testid": "sign-out", onclick: async () => {
      try {
        await api.signOut();
        setCsrfToken(null);
        location.hash = "#/sign-in";
      } catch (error) {
        showError(error);
      }
    } }, "Sign out");
    root.append(h("section", { class: "account", "data-testid": "account-page" },
      h("section", { class: "card" }, h("h2", {}, "Your account"), factsList(account),
        h("div", { class: "buttons" },
          h("a", { class: "button-link", href: api.exportUrl(), download: "", "data-testid": "export-link" }, "⬇ Export all data (zip)"),
          signOut)),
      h("section", { class: "card", "data-testid": "costs" }, h("h3", {}, "Trainings and their cost"), costTable(usage)),
      tokensCard(),
      deleteCard()));
    return {};
  },
};
