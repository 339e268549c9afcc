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

// A request from a menu that the server refuses with a reason (a 4xx in plain
// text, such as a bulk action on a selection it cannot read) would otherwise
// change nothing on screen: the reason is shown as an error alert instead.
document.addEventListener("htmx:responseError", (event) => {
  const request = event.detail.xhr;
  const type = request.getResponseHeader("Content-Type") || "";
  const region = document.querySelector("[data-request-errors]");
  if (request.status >= 500 || !type.startsWith("text/plain") || !region) {
    return;
  }
  const alert = document.createElement("div");
  alert.className = "alert alert-error";
  const reason = document.createElement("span");
  reason.textContent = request.responseText;
  const close = document.createElement("button");
  close.type = "button";
  close.className = "alert-close";
  close.dataset.dismiss = "alert";
  close.setAttribute("aria-label", region.dataset.dismissLabel);
  close.textContent = "×";
  alert.append(reason, close);
  region.replaceChildren(alert);
});
