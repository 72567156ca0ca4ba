// Projects: create one (name, language, prompt sets) and see every project's recording progress.

import { api } from "./api.mjs";
import { routeHash } from "./routes.mjs";
import { h, showError } from "./dom.mjs";

const LANGUAGES = { ja: "Japanese", en: "English" };

function projectRow(project) {
  const ratio = project.total ? project.recorded / project.total : 0;
  const link = (page, label) =>
    h("a", { href: routeHash({ page, projectId: project.id }), "data-testid": `project-${page}` }, label);
  return h(
    "li",
    { class: "project-row", "data-testid": "project-row", "data-project-id": project.id },
    h("div", { class: "project-title" },
      h("strong", { "data-testid": "project-row-name" }, project.name),
      h("span", { class: "muted" }, ` ${LANGUAGES[project.language] ?? project.language} · ${project.prompt_sets.join(", ")}`)),
    h("div", { class: "project-progress" },
      h("progress", { max: "1", value: String(ratio) }),
      h("span", { "data-testid": "project-progress", "data-recorded": project.recorded, "data-total": project.total },
        `${project.recorded} / ${project.total} recorded`)),
    h("div", { class: "project-links" }, link("record", "Record"), link("oto", "Oto review"), link("build", "Build")),
  );
}

export async function mount(root) {
  const [sets, projects] = await Promise.all([api.promptSets(), api.projects()]);
  const name = h("input", { name: "name", required: true, placeholder: "My voicebank", "data-testid": "project-name" });
  const language = h("select", { name: "language", "data-testid": "project-language" },
    Object.entries(LANGUAGES).map(([code, label]) => h("option", { value: code }, label)));
  const setBox = h("fieldset", { class: "prompt-sets", "data-testid": "prompt-sets" });
  const showSets = () => {
    setBox.replaceChildren(h("legend", {}, "Prompt sets"));
    for (const set of sets.filter((s) => s.language === language.value)) {
      setBox.append(h("label", { class: "check" },
        h("input", { type: "checkbox", value: set.name, "data-testid": `prompt-set-${set.name}` }),
        ` ${set.title} `,
        h("span", { class: "muted" }, `(${set.kind}, ${set.prompt_count} prompts)`)));
    }
  };
  language.addEventListener("change", showSets);
  showSets();
  const empty = h("p", { class: "muted", "data-testid": "no-projects", hidden: projects.length > 0 },
    "No projects yet: create one.");
  const list = h("ul", { class: "project-list", "data-testid": "project-list" }, projects.map(projectRow));
  const form = h("form", { class: "card", "data-testid": "create-project" },
    h("h2", {}, "New project"),
    h("label", {}, "Name ", name),
    h("label", {}, "Language ", language),
    setBox,
    h("button", { type: "submit", "data-testid": "create-submit" }, "Create project"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = [...setBox.querySelectorAll("input:checked")].map((box) => box.value);
    if (!name.value.trim()) return showError("Give the project a name.");
    if (chosen.length === 0) return showError("Choose at least one prompt set to record.");
    try {
      const project = await api.createProject(name.value.trim(), language.value, chosen);
      list.prepend(projectRow(project));
      empty.hidden = true;
      form.reset();
      showSets();
    } catch (error) {
      showError(error);
    }
  });
  root.append(
    h("section", { class: "projects", "data-testid": "projects-page" },
      form,
      h("section", { class: "card" }, h("h2", {}, "Projects"),
        empty,
        list)),
  );
  return {};
}
