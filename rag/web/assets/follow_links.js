// Page-wide: a citation mark [n] scrolls to its source card and highlights it (not a new tab); a grade
// clicked in the judgements grid brings the paragraph that states it into view once it has loaded.
document.addEventListener('click', (event) => {
  const link = event.target.closest('a[href^="#source-"]');
  if (link) {
    event.preventDefault();
    event.stopPropagation();
    const cards = document.querySelectorAll(`[id="${link.getAttribute('href').slice(1)}"]`);
    const card = cards[cards.length - 1];
    if (card) {
      const folded = card.closest('details');   // an earlier answer's sources are folded until wanted
      if (folded) folded.open = true;
      card.scrollIntoView({block: 'center'});
      card.classList.add('flash');
      setTimeout(() => card.classList.remove('flash'), 2500);
    }
    return;
  }
  const grade = event.target.closest('#judgements-grid button[data-paragraph]');
  if (grade) {
    const wanted = grade.dataset.paragraph;
    const started = Date.now();
    const show = () => {
      const target = document.querySelector('#grid-context .context-para.target');
      if (target && document.querySelector('#grid-context').innerText.includes(wanted)) {
        target.scrollIntoView({block: 'center'});
        target.classList.add('flash');
        setTimeout(() => target.classList.remove('flash'), 2500);
      } else if (Date.now() - started < 10000) {
        setTimeout(show, 100);
      }
    };
    setTimeout(show, 100);
  }
}, true);
