// The Compliance card form: show the dependent fields only when their type is
// chosen (Consent date and Processing purpose for Consent, descriptions for
// Other). Without this script every field shows and the server still applies
// the rules, so nothing depends on it.
(() => {
  const apply = (root) => {
    root.querySelectorAll("[data-show-when]").forEach((wrapper) => {
      const [name, value] = wrapper.dataset.showWhen.split("=");
      const select = wrapper.closest("form")?.elements[name];
      if (select) {
        wrapper.hidden = select.value !== value;
      }
    });
  };

  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-compliance-type]")) {
      apply(event.target.form);
    }
  });
  document.addEventListener("htmx:load", (event) => apply(event.detail.elt));
  apply(document);
})();
