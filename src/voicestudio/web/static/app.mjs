// The studio's single page: hash routes → pages. Each page module exports
// `mount(root, params) → {update?(params), unmount?()}`; moving within one page (the next prompt) updates
// it in place, so the microphone stays open.

import { api } from "./api.mjs";
import { refreshAccount } from "./account.mjs";
import { clearError, showError } from "./dom.mjs";
import { parseRoute, routeHash } from "./routes.mjs";

const PAGES = {
  projects: () => import("./projects.mjs"),
  record: () => import("./recorder.mjs"),
  oto: () => import("./oto.mjs"),
  build: () => import("./build.mjs"),
  synth: () => import("./synth-page.mjs"),
  voice: () => import("./voice-page.mjs"),
  "sign-in": () => import("./account.mjs").then((m) => m.signInPage),
  account: () => import("./account.mjs").then((m) => m.accountPage),
};

let current = null; // {key, instance}

async function showProjectNav(route) {
  const nav = document.querySelector("[data-testid=project-nav]");
  nav.hidden = !route.projectId;
  if (nav.hidden) return;
  for (const link of nav.querySelectorAll("a[data-page]")) {
    link.href = routeHash({ page: link.dataset.page, projectId: route.projectId });
    link.classList.toggle("active", link.dataset.page === route.page);
  }
  const name = nav.querySelector("[data-testid=nav-project-name]");
  if (name.dataset.projectId !== route.projectId) {
    name.dataset.projectId = route.projectId;
    name.textContent = "";
    try {
      name.textContent = (await api.project(route.projectId)).name;
    } catch {
      // the page itself reports a missing project
    }
  }
}

async function route() {
  const params = parseRoute(location.hash);
  const key = `${params.page}:${params.projectId ?? ""}`;
  showProjectNav(params);
  refreshAccount();
  if (current && current.key === key && current.instance.update) {
    current.instance.update(params);
    return;
  }
  if (current && current.instance.unmount) current.instance.unmount();
  current = null;
  clearError();
  const root = document.getElementById("page");
  root.replaceChildren();
  root.dataset.page = params.page;
  try {
    const module = await PAGES[params.page]();
    current = { key, instance: (await module.mount(root, params)) ?? {} };
  } catch (error) {
    if (error.status !== 401) showError(error); // 401: the page is on its way to #/sign-in
  }
}

document.querySelector("[data-testid=error-close]").addEventListener("click", clearError);
window.addEventListener("hashchange", route);
window.addEventListener("unhandledrejection", (event) => {
  if (event.reason?.status !== 401) showError(event.reason);
});
route();
