// Small behaviours that need script; loaded as a file so the CSP can forbid
// every inline script.
document.addEventListener("click", (event) => {
  const close = event.target.closest("[data-dismiss='alert']");
  if (close) {
    close.closest(".alert").remove();
  }
});
