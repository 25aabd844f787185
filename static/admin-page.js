// Behaviour of every back-office page that Flask-Admin's templates once put in inline
// handlers (onclick=, javascript: links), bound here: our CSP refuses inline scripts.

// "#" and javascript: links are placeholders (menu and filter toggles, the active tab, the
// pager's current page): Bootstrap and Flask-Admin bind what they do; the jump is cancelled,
// so a click neither adds "#" to the address nor runs a javascript: URL. Listened to in the
// capture phase: Flask-Admin's dropdown script stops the click's propagation at the toggle.
document.addEventListener('click', function (event) {
  var link = event.target.closest('a[href="#"], a[href^="javascript:"]');
  if (link) { event.preventDefault(); }
}, true);
