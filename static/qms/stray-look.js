// The stored-files page while a look at the storage runs (templates/evidence/stray_files.html): ask the look's
// status every 5 seconds through the API and reload the page once it is done or failed. (A <meta refresh> would
// reload whatever the reader is doing; axe counts it as a timing the reader cannot adjust.)
(function () {
  const note = document.getElementById("under-way");
  if (!note || note.dataset.polling) return;
  note.dataset.polling = "1";
  const timer = setInterval(async function () {
    if (!document.body.contains(note)) { clearInterval(timer); return; }  // another page since (Turbo)
    try {
      const answer = await fetch(note.dataset.status, {headers: {Accept: "application/json"}, credentials: "same-origin"});
      if (!answer.ok) return;
      const look = await answer.json();
      if (look.status === "done" || look.status === "failed") {
        clearInterval(timer);
        window.location.reload();
      }
    } catch (error) { /* the next tick asks again */ }
  }, 5000);
})();
