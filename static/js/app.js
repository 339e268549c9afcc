// Small behaviours that need script; loaded as a file so the CSP can forbid
// every inline script.
document.addEventListener("click", (event) => {
  const close = event.target.closest("[data-dismiss='alert']");
  if (close) {
    close.closest(".alert").remove();
  }
});

// A form that starts a download (e.g. a bulk export) closes the dialog it sits
// in once the browser has taken the submission.
document.addEventListener("submit", (event) => {
  const dialog = event.target.closest("form[data-closes-dialog]")?.closest("dialog");
  if (dialog) {
    setTimeout(() => {
      dialog.close();
      dialog.remove();
    }, 0);
  }
});
