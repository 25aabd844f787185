// Binds Flask-Admin's bulk actions without inline handlers, so they work under our CSP.
document.addEventListener('click', function (event) {
  var link = event.target.closest('[data-model-action]');
  if (!link) { return; }
  event.preventDefault();
  modelActions.execute(link.getAttribute('data-model-action'));
});

// "All rows the filter selects": ask first, and carry the reason typed above along.
document.addEventListener('submit', function (event) {
  var form = event.target.closest('form.bulk-all');
  if (!form) { return; }
  var button = event.submitter;
  if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
    return;
  }
  var reason = document.getElementById('bulk-reason');
  var template = document.getElementById('bulk-reason-template');
  var parts = [template ? template.value : '', reason ? reason.value : ''].filter(Boolean);
  form.querySelector('input[name=reason]').value = parts.join('\n');
});
