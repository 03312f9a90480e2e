// attachbot sandbox: the page of `attachbot sandbox`. Plain JavaScript, no build step, no
// dependencies, served from the binary. It shows the simulated Webex's spaces, renders the
// bot's Adaptive Cards from their JSON, and talks to the sandbox API under /sandbox/api/.
(function () {
  "use strict";

  // ---------------------------------------------------------------------------------------
  // Small DOM helpers.

  const el = window.attachbotDOM.el;

  function escapeHTML(s) {
    return String(s)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&#39;");
  }

  function isObject(v) {
    return v !== null && typeof v === "object" && !Array.isArray(v);
  }

  // ---------------------------------------------------------------------------------------
  // Markdown: the subset Webex renders in messages (bold, italic, code, links, lists,
  // quotes, code blocks). Everything is escaped first; only these constructs become HTML.

  // emphasis renders bold and italic in escaped text.
  function emphasis(html) {
    return html
      .replace(/\*\*([^*\n]+?)\*\*/g, "<strong>$1</strong>")
      .replace(/(^|[\s(>])\*([^*\s][^*\n]*?)\*(?=[\s).,;:!?<]|$)/g, "$1<em>$2</em>");
  }

  // inlineMarkdown renders code spans and links first, as whole parts, so that emphasis
  // inside a URL or a code span stays as it is.
  function inlineMarkdown(text) {
    const parts = String(text).split(/(`[^`\n]+`|\[[^\]\n]+\]\(https?:\/\/[^\s)]+\))/);
    return parts.map(function (part) {
      if (part.length > 1 && part[0] === "`" && part[part.length - 1] === "`") {
        return "<code>" + escapeHTML(part.slice(1, -1)) + "</code>";
      }
      const link = /^\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)$/.exec(part);
      if (link) {
        return '<a href="' + escapeHTML(link[2]) + '" target="_blank" rel="noopener noreferrer">' + emphasis(escapeHTML(link[1])) + "</a>";
      }
      return emphasis(escapeHTML(part));
    }).join("");
  }

  function renderMarkdown(md) {
    const lines = String(md).replace(/\r\n/g, "\n").split("\n");
    let html = "";
    let i = 0;
    const isBullet = function (l) { return /^\s*[-*•]\s+/.test(l); };
    const isNumbered = function (l) { return /^\s*\d+[.)]\s+/.test(l); };
    const isQuote = function (l) { return /^>\s?/.test(l); };
    const isFence = function (l) { return /^\s*```/.test(l); };
    const isHeading = function (l) { return /^#{1,6}\s+/.test(l); };
    while (i < lines.length) {
      const line = lines[i];
      if (isFence(line)) {
        const code = [];
        i++;
        while (i < lines.length && !isFence(lines[i])) code.push(lines[i++]);
        i++;
        html += "<pre><code>" + escapeHTML(code.join("\n")) + "</code></pre>";
      } else if (isBullet(line) || isNumbered(line)) {
        const numbered = isNumbered(line);
        const items = [];
        while (i < lines.length && (numbered ? isNumbered(lines[i]) : isBullet(lines[i]))) {
          items.push(lines[i].replace(numbered ? /^\s*\d+[.)]\s+/ : /^\s*[-*•]\s+/, ""));
          i++;
        }
        const tag = numbered ? "ol" : "ul";
        html += "<" + tag + ">" + items.map(function (t) { return "<li>" + inlineMarkdown(t) + "</li>"; }).join("") + "</" + tag + ">";
      } else if (isQuote(line)) {
        const quoted = [];
        while (i < lines.length && isQuote(lines[i])) quoted.push(lines[i++].replace(/^>\s?/, ""));
        html += "<blockquote>" + quoted.map(inlineMarkdown).join("<br>") + "</blockquote>";
      } else if (isHeading(line)) {
        // A heading of its level, so that bold inside it still shows as bold.
        const level = /^#+/.exec(line)[0].length;
        html += "<h" + level + ">" + inlineMarkdown(line.replace(/^#{1,6}\s+/, "")) + "</h" + level + ">";
        i++;
      } else if (line.trim() === "") {
        i++;
      } else {
        const para = [];
        while (i < lines.length && lines[i].trim() !== "" && !isFence(lines[i]) && !isBullet(lines[i]) &&
          !isNumbered(lines[i]) && !isQuote(lines[i]) && !isHeading(lines[i])) {
          para.push(lines[i++]);
        }
        html += "<p>" + para.map(inlineMarkdown).join("<br>") + "</p>";
      }
    }
    return html;
  }

  // ---------------------------------------------------------------------------------------
  // Adaptive Cards: a renderer of the elements Webex supports that attachbot's cards (and
  // most bots') use, behaving on submit as Webex's clients and the official adaptivecards
  // renderer do: the Submit action's data is merged with the inputs that hold a value (by
  // id; a toggle gives valueOn/valueOff, a multi-select choice set a comma-joined list),
  // required, regex and range checks block the submit and mark the input, and
  // associatedInputs "none" sends the data alone without checking anything.

  const Cards = (function () {
    const SPACINGS = ["none", "small", "default", "medium", "large", "extraLarge", "padding"];

    // A scope is a card (the root or a ShowCard's): its own inputs, and its parent card.
    function newScope(parent) {
      return { parent: parent, inputs: [] };
    }

    function render(card, opts) {
      const ctx = {
        opts: opts || {},
        ids: new Map(),
        unsupported: [],
        types: new Set(),
        inputs: [],
        actions: []
      };
      const root = el("div", "ac-card");
      root.setAttribute("role", "group");
      if (!isObject(card)) {
        root.append(el("div", "ac-unsupported", "This card is not a JSON object."));
        ctx.unsupported.push("(not an object)");
      } else {
        renderCardInto(root, card, newScope(null), ctx);
      }
      root._acContext = ctx;
      return root;
    }

    function renderCardInto(host, card, scope, ctx) {
      const body = el("div", "ac-body");
      host.append(body);
      renderItems(body, Array.isArray(card.body) ? card.body : [], scope, ctx);
      if (Array.isArray(card.actions) && card.actions.length > 0) {
        host.append(renderActionSet(card.actions, scope, ctx));
      }
    }

    function renderItems(parent, items, scope, ctx) {
      items.forEach(function (item) {
        const node = renderElement(item, scope, ctx);
        if (!node) return;
        decorate(node, item, ctx);
        parent.append(node);
      });
    }

    function decorate(node, item, ctx) {
      node.classList.add("ac-el");
      if (SPACINGS.indexOf(item.spacing) >= 0 && item.spacing !== "default") node.classList.add("ac-spacing-" + item.spacing);
      if (item.separator) node.classList.add("ac-separator");
      if (item.isVisible === false) node.hidden = true;
      if (typeof item.id === "string" && item.id !== "") {
        node.dataset.acId = item.id;
        ctx.ids.set(item.id, node);
      }
      if (item.horizontalAlignment === "center" || item.horizontalAlignment === "right") node.classList.add("ac-align-" + item.horizontalAlignment);
      if (typeof item.height === "string" && item.height === "stretch") node.style.flex = "1";
    }

    function renderElement(item, scope, ctx) {
      if (!isObject(item)) return null;
      ctx.types.add(item.type);
      switch (item.type) {
        case "TextBlock": return renderTextBlock(item);
        case "RichTextBlock": return renderRichText(item, scope, ctx);
        case "FactSet": return renderFactSet(item);
        case "ColumnSet": return renderColumnSet(item, scope, ctx);
        case "Container": return renderContainer(item, scope, ctx);
        case "Image": return renderImage(item, scope, ctx);
        case "ActionSet": return renderActionSet(Array.isArray(item.actions) ? item.actions : [], scope, ctx);
        case "Input.Text":
        case "Input.Number":
        case "Input.Date":
        case "Input.Toggle":
        case "Input.ChoiceSet":
          return renderInput(item, scope, ctx);
      }
      ctx.types.delete(item.type);
      if (item.fallback === "drop") return null;
      if (isObject(item.fallback)) return renderElement(item.fallback, scope, ctx);
      ctx.unsupported.push(String(item.type));
      return el("div", "ac-unsupported", "This card uses " + String(item.type) + ", which the sandbox does not render.");
    }

    // token returns a card's enum value as a class-name part, or "" when it is not a simple
    // word: a value with a space or an object would make classList.add throw.
    function token(v) {
      return typeof v === "string" && /^[A-Za-z][A-Za-z0-9-]*$/.test(v) ? v.toLowerCase() : "";
    }
    function addClass(node, prefix, v) {
      const t = token(v);
      if (t && t !== "default") node.classList.add(prefix + t);
    }

    function textClasses(node, t) {
      addClass(node, "ac-size-", t.size);
      addClass(node, "ac-weight-", t.weight);
      addClass(node, "ac-color-", t.color);
      if (t.isSubtle) node.classList.add("ac-subtle");
      if (t.fontType === "monospace") node.classList.add("ac-monospace");
    }

    function renderTextBlock(t) {
      const node = el("div", "ac-text");
      textClasses(node, t);
      if (!t.wrap) node.classList.add("ac-nowrap");
      if (t.maxLines > 0) {
        node.style.display = "-webkit-box";
        node.style.webkitLineClamp = String(t.maxLines);
        node.style.webkitBoxOrient = "vertical";
        node.style.overflow = "hidden";
        node.style.whiteSpace = "normal";
      }
      node.innerHTML = inlineMarkdown(t.text === undefined ? "" : t.text);
      return node;
    }

    function renderRichText(item, scope, ctx) {
      const node = el("div", "ac-text ac-richtext");
      (Array.isArray(item.inlines) ? item.inlines : []).forEach(function (run) {
        if (typeof run === "string") {
          node.append(document.createTextNode(run));
          return;
        }
        if (!isObject(run)) return;
        const span = el("span", "", run.text === undefined ? "" : String(run.text));
        textClasses(span, run);
        if (run.italic) span.style.fontStyle = "italic";
        if (run.strikethrough) span.classList.add("ac-strike");
        if (run.underline) span.classList.add("ac-underline");
        if (run.highlight) span.classList.add("ac-highlight");
        if (isObject(run.selectAction)) selectable(span, run.selectAction, scope, ctx);
        node.append(span);
      });
      return node;
    }

    function renderFactSet(item) {
      const table = el("table", "ac-facts");
      const tbody = el("tbody");
      (Array.isArray(item.facts) ? item.facts : []).forEach(function (f) {
        const tr = el("tr");
        const title = el("td");
        title.innerHTML = inlineMarkdown(f.title === undefined ? "" : f.title);
        const value = el("td");
        value.innerHTML = inlineMarkdown(f.value === undefined ? "" : f.value);
        tr.append(title, value);
        tbody.append(tr);
      });
      table.append(tbody);
      return table;
    }

    function containerStyle(node, item) {
      addClass(node, "ac-style-", item.style);
      if (item.verticalContentAlignment === "center" || item.verticalContentAlignment === "bottom") {
        node.classList.add("ac-valign-" + item.verticalContentAlignment);
      }
      if (typeof item.minHeight === "string" && /^\d+px$/.test(item.minHeight)) node.style.minHeight = item.minHeight;
    }

    function renderContainer(item, scope, ctx) {
      const node = el("div", "ac-container");
      containerStyle(node, item);
      renderItems(node, Array.isArray(item.items) ? item.items : [], scope, ctx);
      if (isObject(item.selectAction)) selectable(node, item.selectAction, scope, ctx);
      return node;
    }

    function renderColumnSet(item, scope, ctx) {
      const node = el("div", "ac-columns ac-container");
      containerStyle(node, item);
      (Array.isArray(item.columns) ? item.columns : []).forEach(function (col) {
        if (!isObject(col)) return;
        ctx.types.add("Column");
        const c = el("div", "ac-column");
        const w = col.width;
        if (w === undefined || w === "stretch") c.classList.add("stretch");
        else if (w === "auto") c.classList.add("auto");
        else if (typeof w === "number" || /^\d+(\.\d+)?$/.test(String(w))) c.style.flex = String(Number(w)) + " 1 0";
        else if (/^\d+px$/.test(String(w))) c.style.flex = "0 0 " + w;
        containerStyle(c, col);
        renderItems(c, Array.isArray(col.items) ? col.items : [], scope, ctx);
        if (isObject(col.selectAction)) selectable(c, col.selectAction, scope, ctx);
        decorate(c, col, ctx);
        c.classList.remove("ac-el");
        node.append(c);
      });
      if (isObject(item.selectAction)) selectable(node, item.selectAction, scope, ctx);
      return node;
    }

    function renderImage(item, scope, ctx) {
      const img = el("img", "ac-image");
      img.src = typeof item.url === "string" ? item.url : "";
      img.alt = item.altText || "";
      if (item.style === "person") img.classList.add("person");
      if (token(item.size) !== "auto") addClass(img, "ac-image-", item.size);
      if (typeof item.width === "string" && /^\d+px$/.test(item.width)) img.style.width = item.width;
      if (typeof item.height === "string" && /^\d+px$/.test(item.height)) img.style.height = item.height;
      if (item.backgroundColor) img.style.backgroundColor = item.backgroundColor;
      const wrap = el("div", "ac-image-wrap");
      wrap.append(img);
      if (isObject(item.selectAction)) selectable(img, item.selectAction, scope, ctx);
      return wrap;
    }

    function selectable(node, action, scope, ctx) {
      node.classList.add("ac-selectable");
      node.setAttribute("role", "button");
      node.tabIndex = 0;
      if (action.title) node.title = action.title;
      const run = function (ev) {
        ev.stopPropagation();
        execute(action, scope, ctx, node.closest(".ac-card") || node, null);
      };
      node.addEventListener("click", run);
      node.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); run(ev); }
      });
    }

    // Inputs.

    function renderInput(item, scope, ctx) {
      const id = typeof item.id === "string" ? item.id : "";
      const wrap = el("div", "ac-input");
      wrap.dataset.inputType = item.type;
      const controlID = "ac-" + Math.random().toString(36).slice(2);
      if (item.label) {
        const label = el("label", "ac-label", item.label);
        label.htmlFor = controlID;
        if (item.isRequired) label.append(el("span", "ac-required", "*"));
        wrap.append(label);
      }
      let input;
      switch (item.type) {
        case "Input.Text": input = textInput(item, controlID); break;
        case "Input.Number": input = numberInput(item, controlID); break;
        case "Input.Date": input = dateInput(item, controlID); break;
        case "Input.Toggle": input = toggleInput(item, controlID); break;
        default: input = choiceInput(item, controlID); break;
      }
      input.id = id;
      input.def = item;
      input.wrap = wrap;
      input.node.dataset.inputId = id;
      wrap.append(input.node);
      const error = el("div", "ac-input-error");
      error.hidden = true;
      error.dataset.errorFor = id;
      wrap.append(error);
      input.showError = function (msg) {
        wrap.classList.add("ac-invalid");
        error.textContent = msg;
        error.hidden = false;
      };
      input.clearError = function () {
        wrap.classList.remove("ac-invalid");
        error.textContent = "";
        error.hidden = true;
      };
      input.validate = function () {
        const v = input.value();
        if (item.isRequired && !input.isSet()) return item.errorMessage || "required";
        const problem = v === "" ? "" : input.check(v);
        return problem ? (item.errorMessage || problem) : "";
      };
      const clear = function () { if (wrap.classList.contains("ac-invalid") && !input.validate()) input.clearError(); };
      wrap.addEventListener("input", clear);
      wrap.addEventListener("change", clear);
      if (id !== "") scope.inputs.push(input);
      ctx.inputs.push(id);
      return wrap;
    }

    function textInput(item, controlID) {
      let node;
      if (item.isMultiline) {
        node = el("textarea");
      } else {
        node = el("input");
        const types = { email: "email", tel: "tel", url: "url", password: "password" };
        node.type = types[item.style] || "text";
      }
      node.id = controlID;
      if (item.placeholder) node.placeholder = item.placeholder;
      if (item.maxLength > 0) node.maxLength = item.maxLength;
      if (item.value !== undefined) node.value = String(item.value);
      return {
        node: node,
        value: function () { return node.value; },
        isSet: function () { return node.value !== ""; },
        check: function (v) {
          if (item.regex) {
            let re;
            try { re = new RegExp(item.regex); } catch (e) { return ""; }
            if (!re.test(v)) return "This value is not valid.";
          }
          return "";
        }
      };
    }

    function numberInput(item, controlID) {
      const node = el("input");
      node.type = "number";
      node.id = controlID;
      node.step = "any";
      if (item.placeholder) node.placeholder = item.placeholder;
      if (typeof item.min === "number") node.min = String(item.min);
      if (typeof item.max === "number") node.max = String(item.max);
      if (item.value !== undefined) node.value = String(item.value);
      return {
        node: node,
        value: function () { return node.value; },
        isSet: function () { return node.value !== "" && isFinite(Number(node.value)); },
        check: function (v) {
          const n = Number(v);
          if (!isFinite(n)) return "Enter a number.";
          if (typeof item.min === "number" && n < item.min) return "Enter a number of at least " + item.min + ".";
          if (typeof item.max === "number" && n > item.max) return "Enter a number of at most " + item.max + ".";
          return "";
        }
      };
    }

    function dateInput(item, controlID) {
      const node = el("input");
      node.type = "date";
      node.id = controlID;
      if (item.placeholder) node.placeholder = item.placeholder;
      if (item.min) node.min = item.min;
      if (item.max) node.max = item.max;
      if (item.value) node.value = item.value;
      return {
        node: node,
        value: function () { return node.value; },
        isSet: function () { return node.value !== ""; },
        check: function (v) {
          if (item.min && v < item.min) return "Choose a date on or after " + item.min + ".";
          if (item.max && v > item.max) return "Choose a date on or before " + item.max + ".";
          return "";
        }
      };
    }

    function toggleInput(item, controlID) {
      const on = item.valueOn === undefined ? "true" : String(item.valueOn);
      const off = item.valueOff === undefined ? "false" : String(item.valueOff);
      const label = el("label", "ac-toggle");
      const box = el("input");
      box.type = "checkbox";
      box.id = controlID;
      box.checked = item.value !== undefined && String(item.value) === on;
      const title = el("span", "", item.title === undefined ? "" : String(item.title));
      label.append(box, title);
      return {
        node: label,
        value: function () { return box.checked ? on : off; },
        // A required toggle must be on, as in the Adaptive Cards renderers; otherwise its
        // valueOff counts as a value.
        isSet: function () { return item.isRequired ? box.checked : (box.checked ? on : off) !== ""; },
        check: function () { return ""; }
      };
    }

    function choiceInput(item, controlID) {
      const choices = (Array.isArray(item.choices) ? item.choices : []).filter(isObject);
      const initial = item.value === undefined ? [] : String(item.value).split(",").map(function (s) { return s.trim(); }).filter(Boolean);
      if (item.isMultiSelect || item.style === "expanded") {
        const group = el("div", "ac-choices");
        group.id = controlID;
        group.setAttribute("role", item.isMultiSelect ? "group" : "radiogroup");
        const name = controlID + "-choice";
        const boxes = choices.map(function (c) {
          const label = el("label");
          const box = el("input");
          box.type = item.isMultiSelect ? "checkbox" : "radio";
          box.name = name;
          box.value = String(c.value);
          box.dataset.choiceOf = typeof item.id === "string" ? item.id : "";
          box.checked = initial.indexOf(String(c.value)) >= 0;
          label.append(box, el("span", "", c.title === undefined ? String(c.value) : String(c.title)));
          group.append(label);
          return box;
        });
        const value = function () {
          return boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; }).join(",");
        };
        return { node: group, value: value, isSet: function () { return value() !== ""; }, check: function () { return ""; } };
      }
      const select = el("select");
      select.id = controlID;
      const placeholder = el("option", "", item.placeholder || "");
      placeholder.value = "";
      select.append(placeholder);
      choices.forEach(function (c) {
        const o = el("option", "", c.title === undefined ? String(c.value) : String(c.title));
        o.value = String(c.value);
        select.append(o);
      });
      select.value = initial.length > 0 ? initial[0] : "";
      return {
        node: select,
        value: function () { return select.value; },
        isSet: function () { return select.value !== ""; },
        check: function () { return ""; }
      };
    }

    // Actions.

    function renderActionSet(actions, scope, ctx) {
      const wrap = el("div", "ac-actionset");
      const row = el("div", "ac-actions");
      const cards = el("div", "ac-showcards");
      const feedback = el("div", "ac-submit-error");
      feedback.setAttribute("role", "alert");
      feedback.hidden = true;
      wrap.append(row, cards, feedback);
      const shown = [];
      actions.forEach(function (action) {
        if (!isObject(action)) return;
        ctx.types.add(action.type);
        const known = ["Action.Submit", "Action.OpenUrl", "Action.ShowCard", "Action.ToggleVisibility"];
        if (known.indexOf(action.type) < 0) {
          ctx.types.delete(action.type);
          ctx.unsupported.push(String(action.type));
          row.append(el("span", "ac-unsupported", "(" + String(action.type) + " is not rendered)"));
          return;
        }
        ctx.actions.push(action.title || "");
        const button = el("button", "ac-action", action.title || "");
        button.type = "button";
        button.dataset.title = action.title || "";
        button.dataset.actionType = action.type;
        if (action.style === "positive" || action.style === "destructive") button.classList.add(action.style);
        if (action.type === "Action.ShowCard") {
          const sub = el("div", "ac-showcard");
          sub.hidden = true;
          renderCardInto(sub, isObject(action.card) ? action.card : {}, newScope(scope), ctx);
          cards.append(sub);
          shown.push({ button: button, card: sub });
          button.setAttribute("aria-expanded", "false");
          button.addEventListener("click", function () {
            const open = sub.hidden;
            shown.forEach(function (s) { s.card.hidden = true; s.button.setAttribute("aria-expanded", "false"); });
            sub.hidden = !open;
            button.setAttribute("aria-expanded", String(open));
          });
        } else {
          button.addEventListener("click", function () { execute(action, scope, ctx, wrap, feedback); });
        }
        row.append(button);
      });
      return wrap;
    }

    // referencedInputs returns the inputs a submit in scope sends: its card's and its parent
    // cards', as the Adaptive Cards renderers gather them.
    function referencedInputs(scope) {
      const inputs = [];
      for (let s = scope; s; s = s.parent) inputs.push.apply(inputs, s.inputs);
      return inputs;
    }

    function execute(action, scope, ctx, wrap, feedback) {
      switch (action.type) {
        case "Action.Submit": return submit(action, scope, ctx, wrap, feedback);
        case "Action.OpenUrl":
          // Only web and mail links open, as in Webex; a javascript: URL never runs.
          if (typeof action.url !== "string" || !/^(https?:|mailto:)/i.test(action.url)) return;
          if (ctx.opts.onOpenUrl) ctx.opts.onOpenUrl(action.url);
          else window.open(action.url, "_blank", "noopener");
          return;
        case "Action.ToggleVisibility":
          (Array.isArray(action.targetElements) ? action.targetElements : []).forEach(function (t) {
            const id = typeof t === "string" ? t : (isObject(t) ? t.elementId : "");
            const node = ctx.ids.get(id);
            if (!node) return;
            node.hidden = isObject(t) && typeof t.isVisible === "boolean" ? !t.isVisible : !node.hidden;
          });
          return;
      }
    }

    function submit(action, scope, ctx, wrap, feedback) {
      const inputs = action.associatedInputs === "none" ? [] : referencedInputs(scope);
      let first = null;
      inputs.forEach(function (input) {
        const problem = input.validate();
        if (problem) {
          input.showError(problem);
          if (!first) first = input;
        } else {
          input.clearError();
        }
      });
      if (feedback) { feedback.hidden = true; feedback.textContent = ""; }
      if (first) {
        const focusable = first.node.matches("input, select, textarea") ? first.node : first.node.querySelector("input, select, textarea");
        if (focusable) focusable.focus();
        return;
      }
      // As the official renderer does, only inputs that hold a value are sent, as strings,
      // over the action's data.
      const data = isObject(action.data) ? JSON.parse(JSON.stringify(action.data)) : {};
      inputs.forEach(function (input) { if (input.isSet()) data[input.id] = input.value(); });
      if (!ctx.opts.onSubmit) return;
      const buttons = wrap.querySelectorAll(".ac-action");
      buttons.forEach(function (b) { b.disabled = true; });
      Promise.resolve()
        .then(function () { return ctx.opts.onSubmit(data, action); })
        .then(function () {
          buttons.forEach(function (b) { b.disabled = false; });
        }, function (err) {
          buttons.forEach(function (b) { b.disabled = false; });
          if (feedback) {
            feedback.textContent = err && err.message ? err.message : String(err);
            feedback.hidden = false;
          }
        });
    }

    // inspect renders a card off-screen and reports what it found: the element and action
    // types rendered, those it could not render, the input ids and the action titles.
    function inspect(card) {
      const node = render(card, {});
      const ctx = node._acContext;
      return {
        types: Array.from(ctx.types).sort(),
        unsupported: ctx.unsupported.slice(),
        inputs: ctx.inputs.slice(),
        actions: ctx.actions.slice()
      };
    }

    return { render: render, inspect: inspect };
  })();

  window.attachbotCards = Cards;
  window.attachbotMarkdown = renderMarkdown;

  // ---------------------------------------------------------------------------------------
  // The sandbox API.

  function request(method, path, body) {
    const init = { method: method, headers: {} };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (res) {
      return res.text().then(function (text) {
        let data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!res.ok) {
          const msg = data && data.error ? data.error : (text.trim() || res.status + " " + res.statusText);
          throw new Error(msg);
        }
        return data;
      });
    });
  }

  // ---------------------------------------------------------------------------------------
  // The page.

  const PALETTE = ["#5b5fc7", "#0a78cc", "#c2410c", "#15803d", "#a21caf", "#b45309", "#0f766e", "#be123c"];
  const BOT_SVG = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M11 2h2v3h4a3 3 0 0 1 3 3v8a3 3 0 0 1-3 3H7a3 3 0 0 1-3-3V8a3 3 0 0 1 3-3h4V2zm-2 8.5A1.5 1.5 0 1 0 9 13.5 1.5 1.5 0 0 0 9 10.5zm6 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zM8 21h8v1H8z"/></svg>';

  function colorOf(id) {
    let h = 0;
    for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
    return PALETTE[h % PALETTE.length];
  }

  function initials(name) {
    return String(name || "?").split(/\s+/).filter(Boolean).slice(0, 2).map(function (w) { return w[0].toUpperCase(); }).join("");
  }

  const Files = window.attachbotFiles;

  function timeOf(iso) {
    const d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function start() {
    const page = {
      version: "",
      state: null,
      scenarios: null,
      acting: "partner",
      adminId: "",
      lastSeen: null, // direct space id → its last message id, to follow new activity
      views: {}
    };
    const status = document.getElementById("status");
    const actingBox = document.getElementById("acting");
    const picker = document.getElementById("admin-picker");

    // setStatus shows one line in the top bar; a long one is cut with an ellipsis, and
    // shown whole on hover, so that the bar never wraps or moves.
    function setStatus(text, error) {
      status.textContent = text;
      status.title = text;
      status.classList.toggle("error", Boolean(error));
    }

    function people() { return page.state ? page.state.people : []; }
    function person(id) {
      if (page.state && page.state.bot.id === id) return page.state.bot;
      return people().find(function (p) { return p.id === id; });
    }
    function byRole(role) { return people().find(function (p) { return p.role === role; }); }
    function customerAdmins() { return people().filter(function (p) { return p.role === "customer admin"; }); }
    function shownAdmin() { return person(page.adminId); }

    function actingPerson() {
      switch (page.acting) {
        case "customer": return shownAdmin();
        case "outsider": return byRole("outsider");
        default: return byRole("partner admin");
      }
    }

    function space(id) {
      return page.state ? page.state.spaces.find(function (s) { return s.id === id; }) : undefined;
    }
    function partnerSpace() {
      return page.state ? page.state.spaces.find(function (s) { return s.type === "group"; }) : undefined;
    }

    // Acting as.

    function renderActing() {
      const who = { partner: byRole("partner admin"), customer: shownAdmin(), outsider: byRole("outsider") };
      actingBox.querySelectorAll("button").forEach(function (b) {
        const p = who[b.dataset.role];
        b.textContent = "";
        b.append(el("span", "", p ? p.name : "—"), el("small", "", b.dataset.role === "partner" ? "partner admin" : b.dataset.role === "customer" ? "customer admin" : "outsider"));
        b.disabled = !p;
        b.setAttribute("aria-checked", String(page.acting === b.dataset.role));
        b.title = p ? p.name + " <" + p.email + ">" : "";
      });
      const me = actingPerson();
      const avatar = document.getElementById("rail-avatar");
      avatar.textContent = me ? initials(me.name) : "?";
      avatar.style.background = me ? colorOf(me.id) : "#555";
      avatar.title = me ? "Acting as " + me.name + " <" + me.email + ">" : "";
    }

    actingBox.addEventListener("click", function (ev) {
      const b = ev.target.closest("button[data-role]");
      if (!b || b.disabled) return;
      page.acting = b.dataset.role;
      renderActing();
    });

    // Spaces.

    function makeView(section) {
      return {
        section: section,
        list: section.querySelector(".messages"),
        spaceID: "",
        nodes: new Map(), // message id → {node, thread}
        threads: new Map() // root id → thread element
      };
    }
    page.views.partner = makeView(document.getElementById("partner-space"));
    page.views.direct = makeView(document.getElementById("direct-space"));

    function messageNode(m, sp) {
      const author = person(m.personId);
      const isBot = page.state && m.personId === page.state.bot.id;
      const node = el("div", "message");
      node.dataset.id = m.id;
      node.dataset.personRole = author ? author.role : "someone";
      const avatar = el("div", "avatar" + (isBot ? " bot" : ""));
      if (isBot) avatar.innerHTML = BOT_SVG;
      else {
        avatar.textContent = initials(m.personName || m.personEmail);
        avatar.style.background = colorOf(m.personId);
      }
      const main = el("div", "message-main");
      const meta = el("div", "message-meta");
      meta.append(el("span", "name", m.personName || m.personEmail));
      if (isBot) meta.append(el("span", "badge", "Bot"));
      else if (author && author.role !== "bot") meta.append(el("span", "muted", author.role));
      meta.append(el("span", "muted", timeOf(m.created)));
      main.append(meta);
      if (m.card) {
        main.append(Cards.render(m.card, {
          onSubmit: function (data) {
            const who = actingPerson();
            if (!who) return Promise.reject(new Error("Choose who is acting first."));
            return request("POST", "/sandbox/api/click", { personId: who.id, messageId: m.id, inputs: data }).then(function () {
              setStatus(who.name + " submitted the card.");
            });
          }
        }));
      } else {
        const body = el("div", "message-body");
        if (m.markdown) {
          body.innerHTML = renderMarkdown(m.markdown);
        } else {
          let text = m.text || "";
          const botName = page.state ? page.state.bot.name : "";
          if (m.mentionsBot && botName && text.indexOf(botName) === 0) {
            body.append(el("span", "mention", botName));
            text = text.slice(botName.length);
          }
          body.append(document.createTextNode(text));
        }
        main.append(body);
      }
      if (Array.isArray(m.files) && m.files.length > 0) main.append(Files.links(m.files));
      node.append(avatar, main);
      return node;
    }

    function threadNode(root, view, sp) {
      const thread = el("div", "thread");
      thread.dataset.root = root.id;
      const replies = el("div", "replies");
      const tools = el("div", "thread-tools");
      const replyLink = el("button", "reply-link", "Reply in thread");
      replyLink.type = "button";
      tools.append(replyLink);
      const form = el("form", "thread-composer");
      form.hidden = true;
      const box = el("textarea");
      box.rows = 1;
      box.placeholder = "Reply to the thread";
      const err = el("div", "thread-error");
      form.append(box, err);
      replyLink.addEventListener("click", function () {
        form.hidden = !form.hidden;
        if (!form.hidden) box.focus();
      });
      const send = function () {
        const text = box.value.trim();
        if (!text) return;
        const who = actingPerson();
        err.textContent = "";
        request("POST", "/sandbox/api/say", { personId: who ? who.id : "", roomId: sp.id, parentId: root.id, text: text })
          .then(function () { box.value = ""; form.hidden = true; view.stick = true; }, function (e) { err.textContent = e.message; });
      };
      box.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); send(); }
      });
      form.addEventListener("submit", function (ev) { ev.preventDefault(); send(); });
      thread.append(el("div", "thread-root"), replies, tools, form);
      return thread;
    }

    function renderSpace(view, sp, emptyText) {
      const section = view.section;
      if (!sp) {
        view.list.textContent = "";
        view.list.append(el("div", "empty", emptyText));
        view.spaceID = "";
        view.nodes.clear();
        view.threads.clear();
        return;
      }
      if (view.spaceID !== sp.id) {
        view.list.textContent = "";
        view.nodes.clear();
        view.threads.clear();
        view.spaceID = sp.id;
        view.stick = true;
        view.initial = true;
      }
      section.dataset.spaceId = sp.id;
      const nearBottom = view.list.scrollHeight - view.list.scrollTop - view.list.clientHeight < 140;
      const present = new Set(sp.messages.map(function (m) { return m.id; }));
      view.nodes.forEach(function (entry, id) {
        if (!present.has(id)) {
          entry.node.remove();
          view.nodes.delete(id);
          if (view.threads.has(id)) { view.threads.get(id).remove(); view.threads.delete(id); }
        }
      });
      const placeholder = view.list.querySelector(".empty");
      if (sp.messages.length === 0 && !placeholder) view.list.append(el("div", "empty", emptyText));
      if (sp.messages.length > 0 && placeholder) placeholder.remove();
      let added = false;
      sp.messages.forEach(function (m) {
        if (view.nodes.has(m.id)) return;
        const node = messageNode(m, sp);
        if (!view.initial) node.classList.add("fresh");
        const parent = m.parentId && view.threads.get(m.parentId);
        if (parent) {
          parent.querySelector(".replies").append(node);
        } else {
          const thread = threadNode(m, view, sp);
          thread.querySelector(".thread-root").append(node);
          view.list.append(thread);
          view.threads.set(m.id, thread);
        }
        view.nodes.set(m.id, { node: node });
        added = true;
      });
      view.initial = false;
      if (added && (nearBottom || view.stick)) {
        view.list.scrollTop = view.list.scrollHeight;
      }
      view.stick = false;
    }

    function renderHeaders() {
      const ps = partnerSpace();
      const pv = page.views.partner.section;
      pv.querySelector(".space-title").textContent = ps ? ps.title : "Partner space";
      pv.querySelector(".space-subtitle").textContent = ps ? "Group space · " + ps.members.map(function (id) {
        const p = person(id);
        return p ? p.name : "someone";
      }).join(", ") : "";

      const admin = shownAdmin();
      const dv = page.views.direct.section;
      const avatar = dv.querySelector(".space-avatar");
      avatar.textContent = admin ? initials(admin.name) : "";
      avatar.style.background = admin ? colorOf(admin.id) : "#8e8e93";
      dv.querySelector(".space-title").textContent = admin ? admin.name : "Customer admin";
      dv.querySelector(".space-subtitle").textContent = admin ? "Direct space with attachbot · " + admin.email + " · admin of " + admin.orgName : "";
      dv.querySelector(".composer textarea").placeholder = admin ? "Write a message to " + admin.name : "Write a message";
    }

    function renderPicker() {
      const admins = customerAdmins();
      const current = Array.from(picker.options).map(function (o) { return o.value; }).join("|");
      const wanted = admins.map(function (a) { return a.id; }).join("|");
      if (current !== wanted) {
        picker.textContent = "";
        admins.forEach(function (a) {
          const o = el("option", "", a.name + " · " + a.orgName);
          o.value = a.id;
          picker.append(o);
        });
      }
      picker.value = page.adminId;
    }

    picker.addEventListener("change", function () {
      page.adminId = picker.value;
      renderAll();
    });

    // followActivity switches the right-hand column to the direct space that just got a
    // message, so that an approval card shows up where it was sent.
    function followActivity(state) {
      const last = {};
      state.spaces.forEach(function (s) {
        if (s.type === "direct" && s.messages.length > 0) last[s.id] = s.messages[s.messages.length - 1].id;
      });
      const admins = state.people.filter(function (p) { return p.role === "customer admin"; });
      if (page.lastSeen === null) {
        // On load, show the admin whose space was written to last, or the first one.
        let best = null;
        let bestTime = "";
        state.spaces.forEach(function (s) {
          if (s.type !== "direct" || s.messages.length === 0) return;
          const t = s.messages[s.messages.length - 1].created;
          if (t > bestTime && admins.some(function (a) { return a.id === s.with; })) { best = s.with; bestTime = t; }
        });
        page.adminId = best || (admins[0] ? admins[0].id : "");
      } else {
        Object.keys(last).forEach(function (spaceID) {
          if (page.lastSeen[spaceID] === last[spaceID]) return;
          const s = state.spaces.find(function (x) { return x.id === spaceID; });
          // The bot's direct messages to people whose space the page does not show (the
          // outsider told why her click did nothing, say) appear in the status line.
          if (s && s.with && !admins.some(function (a) { return a.id === s.with; })) {
            const m = s.messages[s.messages.length - 1];
            const to = state.people.find(function (p) { return p.id === s.with; });
            if (m && m.personId === state.bot.id) {
              setStatus("attachbot to " + (to ? to.name : "someone") + ", directly: " + (m.text || m.markdown || ""));
            }
            return;
          }
          if (s && s.with && s.with !== page.adminId && admins.some(function (a) { return a.id === s.with; })) {
            page.adminId = s.with;
            const a = admins.find(function (x) { return x.id === s.with; });
            setStatus("New message in the direct space of " + a.name + ".");
          }
        });
      }
      page.lastSeen = last;
    }

    function renderAll() {
      if (!page.state) return;
      renderPicker();
      renderActing();
      renderHeaders();
      renderSpace(page.views.partner, partnerSpace(), "No messages yet. Type help, or a scenario's line.");
      const admin = shownAdmin();
      renderSpace(page.views.direct, admin ? space(admin.directSpaceId) : undefined,
        admin ? "No messages with " + admin.name + " yet. The bot writes here when this admin's approval is needed." : "No customer admin.");
    }

    function applyState(state) {
      followActivity(state);
      page.state = state;
      renderAll();
    }

    // Composers.

    // composer wires a space's composer. A composer with a file chip (the partner space's)
    // takes one file too, attached with its button or dropped on the space, and sends it
    // with the text, as a Webex client posts a message with a file.
    function composer(view, roomOf) {
      const form = view.section.querySelector(".composer");
      const box = form.querySelector("textarea");
      const err = form.querySelector(".composer-error");
      const button = form.querySelector(".send");
      const chip = form.querySelector(".composer-file");
      const filePicker = form.querySelector(".attach-file input");
      let file = null;
      const grow = function () {
        box.style.height = "auto";
        box.style.height = Math.min(box.scrollHeight, 140) + "px";
      };
      // setFile attaches a file (null removes it); a file larger than the sandbox posts is
      // refused at once, saying so.
      const setFile = function (f) {
        err.textContent = "";
        const max = page.scenarios ? page.scenarios.maxFileBytes : 0;
        if (f && max > 0 && f.size > max) {
          err.textContent = f.name + " is " + Files.sizeOf(f.size) + "; the sandbox posts files of at most " + Files.sizeOf(max) +
            " (attachbot reads at most 5 MiB). Split it into smaller files.";
          f = null;
        }
        file = f;
        chip.hidden = !f;
        chip.querySelector(".file-name").textContent = f ? f.name : "";
        chip.querySelector(".file-size").textContent = f ? Files.sizeOf(f.size) : "";
        chip.title = f ? f.name : "";
      };
      const send = function () {
        const text = box.value.trim();
        const who = actingPerson();
        err.textContent = "";
        if (!text) {
          if (file) err.textContent = "Type check or attach to send with the file.";
          return;
        }
        button.disabled = true;
        // The file as it is now: it may be removed or replaced while it is read.
        const sending = file;
        const sent = sending
          ? Files.base64Of(sending).then(function (data) {
            return request("POST", "/sandbox/api/sayfile", { personId: who ? who.id : "", roomId: roomOf(), text: text,
              file: { name: sending.name, contentType: sending.type, data: data } });
          })
          : request("POST", "/sandbox/api/say", { personId: who ? who.id : "", roomId: roomOf(), text: text });
        const withFile = Boolean(sending);
        sent.then(function () {
          box.value = "";
          grow();
          if (withFile && file === sending) setFile(null);
          view.stick = true;
          setStatus((who ? who.name : "Someone") + (withFile ? " posted a message with a file." : " posted a message."));
        }, function (e) { err.textContent = e.message; })
          .then(function () { button.disabled = false; });
      };
      box.addEventListener("input", grow);
      box.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); send(); }
      });
      form.addEventListener("submit", function (ev) { ev.preventDefault(); send(); });
      if (chip && filePicker) {
        chip.querySelector(".file-remove").addEventListener("click", function () { setFile(null); });
        filePicker.addEventListener("change", function () {
          if (filePicker.files.length > 0) setFile(filePicker.files[0]);
          filePicker.value = "";
        });
        Files.dropTarget(view.section, setFile, function (msg) { err.textContent = msg; });
      }
      return { box: box, grow: grow, setFile: setFile };
    }

    // A file dropped anywhere else would make the browser open it in place of the page.
    Files.guardPage(function () {
      setStatus("Drop files on the partner space: the bot reads the files sent there with check or attach.", true);
    });

    const partnerComposer = composer(page.views.partner, function () { const s = partnerSpace(); return s ? s.id : ""; });
    composer(page.views.direct, function () { const a = shownAdmin(); return a ? a.directSpaceId : ""; });

    // Scenarios and the outcome control.

    const outcomeForm = document.getElementById("outcome-form");
    const outcomeStatus = document.getElementById("outcome-status");
    const outcomeDelay = document.getElementById("outcome-delay");
    const outcomeOrg = document.getElementById("outcome-org");
    const outcomeNote = document.getElementById("outcome-note");

    function renderScenarios(v) {
      page.scenarios = v;
      if (outcomeStatus.options.length === 0) {
        v.outcomes.forEach(function (o) {
          const opt = el("option", "", o.status === "seeded" ? "as seeded" : o.status);
          opt.value = o.status;
          opt.title = o.meaning;
          outcomeStatus.append(opt);
        });
        v.scenarios.forEach(function (s) {
          const opt = el("option", "", s.orgName);
          opt.value = s.orgId;
          outcomeOrg.append(opt);
        });
        // The control shows the server's setting, as last applied (also before a reload).
        const applied = v.applied || { orgId: "", status: "seeded", delaySeconds: v.defaultDelaySeconds };
        outcomeStatus.value = applied.status;
        outcomeOrg.value = applied.orgId;
        outcomeDelay.value = String(applied.delaySeconds);
        syncOutcome();
        if (applied.status !== "seeded" || applied.orgId !== "") describeApplied(applied);
      }
      renderSample(v.sample);
      const list = document.getElementById("scenario-list");
      list.textContent = "";
      v.scenarios.forEach(function (s) {
        const li = el("li", "scenario");
        li.dataset.orgId = s.orgId;
        li.append(el("h3", "", s.orgName));
        li.append(el("div", "admin", "Admin: " + s.adminName + " <" + s.adminEmail + ">"));
        li.append(el("p", "", s.demonstrates));
        const line = el("code", "line", s.line);
        line.title = s.line;
        li.append(line);
        const buttons = el("div", "buttons");
        const typeIt = el("button", "primary", "Type it");
        typeIt.type = "button";
        typeIt.dataset.fill = "attach";
        typeIt.addEventListener("click", function () { fill(s.line); });
        const check = el("button", "", "Check");
        check.type = "button";
        check.dataset.fill = "check";
        check.addEventListener("click", function () { fill(s.check); });
        const delay = s.delaySeconds > 0 ? s.delaySeconds : v.defaultDelaySeconds;
        buttons.append(typeIt, check, el("span", "outcome-tag", "next: " + s.outcome + " · " + delay + " s"));
        li.append(buttons);
        list.append(li);
      });
    }

    // renderSample offers the sample bulk file: to download, or attached to the partner
    // space's composer with check.
    function renderSample(sample) {
      if (!sample) return;
      document.getElementById("sample-about").textContent = sample.about;
      const link = document.getElementById("sample-link");
      link.href = sample.url;
      link.download = sample.name;
    }
    document.getElementById("sample-attach").addEventListener("click", function () {
      const sample = page.scenarios && page.scenarios.sample;
      if (!sample) return;
      fetch(sample.url).then(function (res) {
        if (!res.ok) throw new Error("the sample answered " + res.status);
        return res.blob();
      }).then(function (blob) {
        fill("check");
        partnerComposer.setFile(new File([blob], sample.name, { type: "text/csv" }));
      }, function (e) { setStatus("Could not get the sample file: " + e.message, true); });
    });

    function fill(line) {
      page.acting = "partner";
      renderActing();
      partnerComposer.box.value = line;
      partnerComposer.grow();
      partnerComposer.box.focus();
    }

    function syncOutcome() {
      const seeded = outcomeStatus.value === "seeded";
      outcomeDelay.disabled = seeded;
      const o = page.scenarios && page.scenarios.outcomes.find(function (x) { return x.status === outcomeStatus.value; });
      outcomeNote.textContent = o ? o.meaning : "";
    }
    outcomeStatus.addEventListener("change", syncOutcome);

    // describeApplied says in the note what the server's setting is.
    function describeApplied(applied) {
      const org = page.scenarios && page.scenarios.scenarios.find(function (s) { return s.orgId === applied.orgId; });
      const target = org ? org.orgName : "every organization";
      outcomeNote.textContent = applied.status === "seeded"
        ? "The next provisioning of " + target + " ends as seeded."
        : "The next provisioning of " + target + " ends in " + applied.status + " after " + applied.delaySeconds + " s.";
      outcomeNote.dataset.applied = "true";
    }

    outcomeForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      const body = { orgId: outcomeOrg.value, status: outcomeStatus.value, delaySeconds: Number(outcomeDelay.value) };
      request("POST", "/sandbox/api/outcome", body).then(function (v) {
        renderScenarios(v);
        describeApplied(v.applied || body);
      }, function (e) {
        outcomeNote.textContent = e.message;
        outcomeNote.dataset.applied = "false";
      });
    });

    // The long poll.

    function poll() {
      const path = "/sandbox/api/state" + (page.version ? "?since=" + encodeURIComponent(page.version) : "");
      request("GET", path).then(function (state) {
        let shown = true;
        if (state.version !== page.version) {
          page.version = state.version;
          try {
            applyState(state);
          } catch (e) {
            // Keep polling: the next state may render, and the page must not freeze.
            shown = false;
            setStatus("Could not show the latest state: " + e.message, true);
            console.error(e);
          }
        }
        if (shown && (status.classList.contains("error") || status.textContent === "Connecting…")) setStatus("Connected.");
        poll();
      }, function (e) {
        setStatus("The sandbox is not answering (" + e.message + "); retrying…", true);
        window.setTimeout(poll, 2000);
      });
    }

    request("GET", "/sandbox/api/scenarios").then(renderScenarios, function (e) {
      setStatus("Could not load the scenarios: " + e.message, true);
    });
    setStatus("Connecting…");
    poll();
  }

  if (document.getElementById("partner-space")) start();
})();
