// attachbot sandbox: the DOM helper the page's scripts share. Loaded first.
window.attachbotDOM = {
  // el makes an element with a class and text; text is only ever text, never markup.
  el: function (tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
};
