// attachbot sandbox: files on the page. A person drops a file on a space (or picks one) to
// send with a command, and the files of messages show as download links. A file's name comes
// from whoever posted it: it is only ever text here, never markup, and a link only ever goes
// to the sandbox's own download route. Loaded before app.js, which uses window.attachbotFiles.
(function () {
  "use strict";

  const el = window.attachbotDOM.el;

  // sizeOf says a file's size in bytes, KiB or MiB.
  function sizeOf(n) {
    if (!(n >= 0)) return "";
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + " KiB";
    return (n / 1024 / 1024).toFixed(1) + " MiB";
  }

  // kindOf is the label of a file's icon: its extension, short and in capitals.
  function kindOf(name) {
    const m = /\.([A-Za-z0-9]{1,4})$/.exec(String(name));
    return m ? m[1].toUpperCase() : "FILE";
  }

  // base64Of reads a file into base64, as the sandbox API takes it.
  function base64Of(file) {
    return new Promise(function (resolve, reject) {
      const reader = new FileReader();
      reader.onload = function () {
        const url = String(reader.result);
        resolve(url.slice(url.indexOf(",") + 1));
      };
      reader.onerror = function () { reject(new Error("Could not read " + file.name + ": " + (reader.error ? reader.error.message : "unknown error"))); };
      reader.readAsDataURL(file);
    });
  }

  // links renders a message's files (the state's files: name, size, url) as download links.
  function links(files) {
    const box = el("div", "message-files");
    files.forEach(function (f) {
      if (typeof f.url !== "string" || f.url.indexOf("/sandbox/api/files/") !== 0) return;
      const a = el("a", "file-link");
      a.href = f.url;
      a.download = String(f.name);
      a.title = "Download " + String(f.name);
      a.append(el("span", "file-icon", kindOf(f.name)), el("span", "file-name", String(f.name)), el("span", "file-size muted", sizeOf(f.size)));
      box.append(a);
    });
    return box;
  }

  // hasFiles says whether a drag carries files (not text or a link from the page).
  function hasFiles(ev) {
    return Boolean(ev.dataTransfer) && Array.prototype.indexOf.call(ev.dataTransfer.types || [], "Files") >= 0;
  }

  // dropTarget lets one file be dropped on section, as a Webex message carries one here:
  // onFile gets it; onError says what is wrong with a drop of several.
  function dropTarget(section, onFile, onError) {
    let depth = 0;
    section.addEventListener("dragenter", function (ev) {
      if (!hasFiles(ev)) return;
      ev.preventDefault();
      depth++;
      section.classList.add("dropping");
    });
    section.addEventListener("dragover", function (ev) {
      if (!hasFiles(ev)) return;
      ev.preventDefault();
      ev.dataTransfer.dropEffect = "copy";
    });
    section.addEventListener("dragleave", function () {
      depth = Math.max(0, depth - 1);
      if (depth === 0) section.classList.remove("dropping");
    });
    section.addEventListener("drop", function (ev) {
      if (!hasFiles(ev)) return;
      ev.preventDefault();
      depth = 0;
      section.classList.remove("dropping");
      const files = ev.dataTransfer.files;
      if (files.length !== 1) {
        onError("Drop one file: a message carries one file here.");
        return;
      }
      onFile(files[0]);
    });
  }

  // guardPage keeps a file dropped outside every drop target from being opened by the
  // browser in place of the page; onStray is told.
  function guardPage(onStray) {
    window.addEventListener("dragover", function (ev) {
      if (hasFiles(ev) && !ev.defaultPrevented) {
        ev.preventDefault();
        ev.dataTransfer.dropEffect = "none";
      }
    });
    window.addEventListener("drop", function (ev) {
      if (hasFiles(ev) && !ev.defaultPrevented) {
        ev.preventDefault();
        onStray();
      }
    });
  }

  window.attachbotFiles = { sizeOf: sizeOf, base64Of: base64Of, links: links, dropTarget: dropTarget, guardPage: guardPage };
})();
