// The People list's selection and "⋮" menu. Loaded as a file: the CSP forbids
// inline scripts.
(() => {
  const form = document.querySelector("[data-people-selection]");
  if (!form) {
    return;
  }
  const bar = form.querySelector("[data-bulk-bar]");
  const scope = form.querySelector("[data-scope]");
  const count = form.querySelector("[data-selected-count]");
  const selectPage = form.querySelector("[data-select-page]");
  const selectAllMatching = form.querySelector("[data-select-all-matching]");
  const allMatchingNote = form.querySelector("[data-all-matching-note]");
  const morePages = form.dataset.morePages === "yes";
  const rows = () => Array.from(form.querySelectorAll("[data-select-row]"));
  // The server renders the words in the page's language, one per plural form.
  const plural = new Intl.PluralRules(document.documentElement.lang || "en");
  const locale = plural.resolvedOptions().locale;
  const selectedText = (n) => {
    const category = plural.select(n) === "one" ? "one" : "other";
    return count.dataset[category].replace("{count}", n.toLocaleString(locale));
  };

  const refresh = () => {
    const all = rows();
    const checked = all.filter((box) => box.checked);
    const everyRow = all.length > 0 && checked.length === all.length;
    if (!everyRow) {
      scope.value = "ids";
    }
    const allMatching = scope.value === "all";
    bar.hidden = checked.length === 0;
    selectPage.checked = everyRow;
    count.textContent = allMatching ? "" : selectedText(checked.length);
    if (selectAllMatching) {
      selectAllMatching.hidden = !everyRow || !morePages || allMatching;
      allMatchingNote.hidden = !allMatching;
    }
  };

  form.addEventListener("change", (event) => {
    if (event.target === selectPage) {
      rows().forEach((box) => {
        box.checked = selectPage.checked;
      });
    }
    refresh();
  });

  form.addEventListener("click", (event) => {
    if (event.target.closest("[data-select-all-matching]")) {
      scope.value = "all";
      refresh();
    } else if (event.target.closest("[data-clear-selection]")) {
      rows().forEach((box) => {
        box.checked = false;
      });
      scope.value = "ids";
      refresh();
    } else if (event.target.closest("[data-bulk-action]")) {
      const menu = form.querySelector("[data-bulk-menu]");
      if (menu) {
        menu.open = false;
      }
    }
  });

  // A field marked data-show-when="permission_type:consent" is shown only
  // while that choice is made (Consent date and Processing purpose only for
  // Consent, the descriptions only for Other), as on the Compliance card.
  const applyShowWhen = (root) => {
    root.querySelectorAll("[data-show-when]").forEach((input) => {
      const [name, value] = input.dataset.showWhen.split(":");
      const control = input.form && input.form.elements.namedItem(name);
      const wrapper = input.closest(".field") || input;
      wrapper.hidden = !control || control.value !== value;
    });
  };

  // Bulk action forms arrive as HTMX partials in #modal: show them as a modal
  // dialog, and let their Cancel buttons close it.
  document.body.addEventListener("htmx:afterSwap", (event) => {
    applyShowWhen(event.detail.target);
    const dialog = event.detail.target.querySelector("dialog[data-modal]");
    if (dialog && !dialog.open) {
      dialog.showModal();
    }
  });
  document.addEventListener("change", (event) => {
    const dialog = event.target.closest("dialog[data-modal]");
    if (dialog) {
      applyShowWhen(dialog);
    }
  });
  document.addEventListener("click", (event) => {
    const close = event.target.closest("[data-close-modal]");
    if (close) {
      event.preventDefault();
      const dialog = close.closest("dialog");
      dialog.close();
      dialog.remove();
    }
  });

  refresh();
})();
