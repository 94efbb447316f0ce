element.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-paragraph]');
  if (button) { trigger('click', {paragraph: button.dataset.paragraph}); }
});
