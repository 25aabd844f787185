// Binds Flask-Admin's bulk actions without inline handlers, so they work under our CSP.
document.addEventListener('click', function (event) {
  var link = event.target.closest('[data-model-action]');
  if (!link) { return; }
  event.preventDefault();
  modelActions.execute(link.getAttribute('data-model-action'));
});
