/*
 * Accessibility repairs to the HTML that the theme and the Sphinx extensions write.
 * Each one names the tool whose markup it corrects; tests/test_browser.py runs axe-core
 * on every page and fails on anything these leave behind.
 *
 * Loaded in <head>; everything runs once the document is parsed, after the theme's and
 * sphinx-togglebutton's own start-up code (their listeners were registered first).
 */
document.addEventListener("DOMContentLoaded", () => {
  // pydata-sphinx-theme: the search field's aria-label "Search" hides its visible text
  // "Search Ctrl+K" (WCAG 2.5.3, label in name). Let the visible text be the name.
  document.querySelectorAll("button.search-button-field[aria-label]").forEach((button) => {
    if (button.textContent.trim()) button.removeAttribute("aria-label");
  });

  // Font Awesome icons are drawn by CSS (the icon font) and carry no meaning of their own:
  // every button or link that holds one has its own label or text.
  document.querySelectorAll("i[class*='fa-']").forEach((icon) => {
    icon.setAttribute("aria-hidden", "true");
  });

  // pydata-sphinx-theme: the book's title link at the top of the primary sidebar lies
  // outside every landmark; make the sidebar one.
  const sidebar = document.getElementById("pst-primary-sidebar");
  if (sidebar && !sidebar.hasAttribute("role")) {
    sidebar.setAttribute("role", "complementary");
    sidebar.setAttribute("aria-label", "Book");
  }

  // MyST-NB: a collapsed code cell's <summary> is named "Toggle hidden content", which
  // hides its visible text "Show code cell source". Let the visible text be the name.
  document.querySelectorAll("details.hide > summary[aria-label]").forEach((summary) => {
    summary.removeAttribute("aria-label");
  });

  // sphinx-togglebutton: every collapsed solution's button is named "Toggle hidden content".
  // Name each after the admonition it opens ("Solution to Exercise 1.1"); aria-expanded,
  // which sphinx-togglebutton keeps up to date, tells whether it is open.
  document.querySelectorAll(".admonition.toggle button.toggle-button").forEach((button) => {
    const title = button.closest(".admonition").querySelector(".admonition-title");
    const name = title ? title.textContent.trim() : "";
    if (name) button.setAttribute("aria-label", name);
  });

  // sphinx-exercise: every exercise and solution holds a <section id="exercise-content">
  // (or "solution-content"), so a page with several has duplicate ids. Nothing links to
  // them; give each the id of its admonition as a prefix.
  ["exercise", "solution"].forEach((kind) => {
    document.querySelectorAll(`section#${kind}-content`).forEach((section) => {
      const owner = section.closest(`.${kind}`);
      if (owner && owner.id) section.id = `${owner.id}-content`;
    });
  });

  // docutils/sphinxcontrib-bibtex: the reference list is role="list" but its entries carry
  // the deprecated DPUB role doc-biblioentry, so the list has no list items.
  document.querySelectorAll("[role='list'] > [role='doc-biblioentry']").forEach((entry) => {
    entry.setAttribute("role", "listitem");
  });
});
