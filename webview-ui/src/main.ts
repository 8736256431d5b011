// Entry of the webview bundle (dist/webview.js): page styles and the <al-app> element.
import './elements/app';

const page = new CSSStyleSheet();
page.replaceSync(`
body { margin: 0; padding: 0; background: var(--vscode-editor-background); color: var(--vscode-foreground);
  font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); }
`);
document.adoptedStyleSheets = [...document.adoptedStyleSheets, page];

if (!document.querySelector('al-app')) document.body.append(document.createElement('al-app'));
