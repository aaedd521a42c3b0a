// Heliograph console: small comforts on top of htmx. Every page reads without this file.

// Copy buttons: copy the text of the element named by data-copy.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button.copy");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source) return;
  try {
    await navigator.clipboard.writeText(source.textContent.trim());
    button.textContent = "Copied";
  } catch (err) {
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    button.textContent = "Selected: press Ctrl+C";
  }
  setTimeout(() => { button.textContent = "Copy"; }, 1500);
});

// The list pushed over SSE is the same for every tab: mark this tab's handset again, and keep a
// thread scrolled to its newest message.
function settle() {
  for (const link of document.querySelectorAll(".conversations a")) {
    const here = decodeURIComponent(new URL(link.href).pathname) === decodeURIComponent(location.pathname);
    link.parentElement.classList.toggle("current", here);
  }
  const bubbles = document.querySelector(".bubbles");
  if (bubbles) bubbles.scrollTop = bubbles.scrollHeight;
}
document.addEventListener("DOMContentLoaded", settle);
document.addEventListener("htmx:afterSettle", settle);
