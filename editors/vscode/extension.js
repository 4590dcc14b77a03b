// Starts mig-lsp for files of the `mig` language (.defs, .srv, .cli).
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration('mig').get('server.path') || 'mig-lsp';
  client = new LanguageClient(
    'mig-lsp',
    'MIG language server',
    { command },
    { documentSelector: [{ scheme: 'file', language: 'mig' }] }
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
