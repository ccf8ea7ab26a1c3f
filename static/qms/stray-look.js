// The stored-files page while a look at the storage runs (templates/evidence/stray_files.html): ask the look's
// status every 5 seconds through the API and reload the page once it is done or failed, once the answer is a
// refusal (a session that ended: the server then decides), or every 5 minutes all the same (a look lost with its
// worker is given up after an hour, and the page then offers a new one). A <meta refresh> would reload whatever
// the reader is doing; axe counts it as a timing the reader cannot adjust.
(function () {
  const note = document.getElementById("under-way");
  if (!note || note.dataset.polling) return;
  note.dataset.polling = "1";
  let asked = 0;
  const timer = setInterval(async function () {
    if (!document.body.contains(note)) { clearInterval(timer); return; }  // another page since (Turbo)
    asked += 1;
    try {
      const answer = await fetch(note.dataset.status, {headers: {Accept: "application/json"}, credentials: "same-origin"});
      const look = answer.ok ? await answer.json() : null;
      if (!answer.ok || look.status === "done" || look.status === "failed" || asked >= 60) {
        clearInterval(timer);
        window.location.reload();
      }
    } catch (error) { /* the network: the next tick asks again */ }
  }, 5000);
})();
