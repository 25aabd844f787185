/* The image code refreshes on a click (or Enter / Space) on the image: a new challenge is
   asked for, and the page's hidden challenge id and the image follow it. Without this
   script, reloading the page gives a new image. */
(function () {
  "use strict";
  function refresh(img) {
    var form = img.closest("form");
    var token = form && form.querySelector('input[name$="csrf_token"]');
    var target = document.getElementById(img.getAttribute("data-challenge-field"));
    if (!target || img.getAttribute("aria-busy") === "true") { return; }
    img.setAttribute("aria-busy", "true");
    fetch(img.getAttribute("data-refresh-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: token ? { "X-CSRFToken": token.value } : {}
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (challenge) {
      target.value = challenge.id;
      img.src = challenge.src;
      var answer = form.querySelector('input[name$="captcha"]');
      if (answer) { answer.value = ""; answer.focus(); }
    }).catch(function () { /* the old image stays; reloading the page still works */ })
      .then(function () { img.removeAttribute("aria-busy"); });
  }
  function init() {
    var images = document.querySelectorAll("img.captcha-img[data-refresh-url]");
    Array.prototype.forEach.call(images, function (img) {
      if (img.classList.contains("captcha-refreshable")) { return; }  /* bound already */
      img.setAttribute("role", "button");
      img.setAttribute("tabindex", "0");
      img.title = img.getAttribute("data-refresh-title") || "";
      img.classList.add("captcha-refreshable");
      img.addEventListener("click", function () { refresh(img); });
      img.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); refresh(img); }
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
