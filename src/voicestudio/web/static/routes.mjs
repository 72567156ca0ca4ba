// Hash routes of the single page: #/ (projects), #/projects/ID/record[/SET/PROMPT], …/oto, …/build, …/voice,
// #/synth[/MODEL] (voice models speaking in the browser), #/sign-in and #/account (studios with accounts).

/** The pages that belong to one project. */
export const PROJECT_PAGES = ["record", "oto", "build", "voice"];

/** "#/projects/ID/record/SET/PROMPT" → {page, projectId, promptSet, promptId}. */
export function parseRoute(hash) {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "synth") return { page: "synth", modelId: parts[1] ?? null };
  if (parts[0] === "sign-in" || parts[0] === "account") return { page: parts[0] };
  if (parts[0] === "projects" && parts[1] && PROJECT_PAGES.includes(parts[2])) {
    return { page: parts[2], projectId: parts[1], promptSet: parts[3] ?? null, promptId: parts[4] ?? null };
  }
  return { page: "projects" };
}

/** The hash of a route. */
export function routeHash({ page, projectId, promptSet, promptId, modelId }) {
  if (page === "synth") return modelId ? `#/synth/${encodeURIComponent(modelId)}` : "#/synth";
  if (page === "sign-in" || page === "account") return `#/${page}`;
  if (page === "projects" || !projectId) return "#/";
  const tail = promptSet && promptId ? `/${encodeURIComponent(promptSet)}/${encodeURIComponent(promptId)}` : "";
  return `#/projects/${encodeURIComponent(projectId)}/${page}${tail}`;
}
