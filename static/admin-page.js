// Behaviour of every back-office page that Flask-Admin's templates once put in inline
// handlers (onclick=, javascript: links), bound here: our CSP refuses inline scripts.

// "#" and javascript: links are placeholders (menu and filter toggles, the active tab, the
// pager's current page): Bootstrap and Flask-Admin bind what they do; the jump is cancelled,
// so a click neither scrolls to the top nor runs a javascript: URL.
document.addEventListener('click', function (event) {
  var link = event.target.closest('a[href="#"], a[href^="javascript:"]');
  if (link) { event.preventDefault(); }
});

