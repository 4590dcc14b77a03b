-- Drives mig-lsp from Neovim's own LSP client (nvim >= 0.7), headless.
-- Environment: MIG_LSP_BIN (server), DEFS_FILE (file with an error on line 4), RESULT_FILE.
-- Writes one fact per line to RESULT_FILE, then DONE (or FAILED: reason).
local bin = os.getenv('MIG_LSP_BIN')
local file = os.getenv('DEFS_FILE')
local out = os.getenv('RESULT_FILE')
local lines = {}

local function log(s)
  table.insert(lines, s)
end

local function finish(status)
  local f = io.open(out, 'w')
  f:write(table.concat(lines, '\n') .. '\n' .. status .. '\n')
  f:close()
  vim.cmd('qall!')
end

local ok, err = pcall(function()
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  local published = {}
  local exit_code = nil
  local client_id = vim.lsp.start_client({
    name = 'mig-lsp',
    cmd = { bin },
    root_dir = vim.fn.fnamemodify(file, ':h'),
    flags = { debounce_text_changes = 0 },
    handlers = {
      ['textDocument/publishDiagnostics'] = function(_, result)
        table.insert(published, result)
      end,
    },
    on_exit = function(code, signal)
      exit_code = code
      log('exit ' .. tostring(code) .. ' signal ' .. tostring(signal))
    end,
  })
  if not client_id then
    error('start_client failed')
  end
  vim.lsp.buf_attach_client(buf, client_id)

  -- 1. The error arrives at its line.
  if not vim.wait(20000, function() return #published >= 1 end, 20) then
    error('no diagnostics after opening')
  end
  local first = published[#published]
  log('diagnostics ' .. #first.diagnostics)
  for _, d in ipairs(first.diagnostics) do
    log('diagnostic line ' .. d.range.start.line .. ' ' .. d.message:gsub('\n.*', ''))
  end

  -- 2. Fix the line; the update clears the error.
  local before = #published
  vim.api.nvim_buf_set_lines(buf, 3, 4, false, { 'type fixed = int32;' })
  if not vim.wait(20000, function()
    return #published > before and #published[#published].diagnostics == 0
  end, 20) then
    error('diagnostics not updated after the edit')
  end
  log('after edit diagnostics ' .. #published[#published].diagnostics)

  -- 3. Hover on the routine name.
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = 4, character = 9 },
  }
  local responses = vim.lsp.buf_request_sync(buf, 'textDocument/hover', params, 10000)
  local hover = responses and responses[client_id] and responses[client_id].result
  if not hover then
    error('no hover')
  end
  for l in hover.contents.value:gmatch('[^\n]+') do
    if l:find('msgh_id') then
      log('hover ' .. l)
    end
  end

  -- 4. Add a routine that names an undefined type: its diagnostic arrives at its line, and
  -- the hover on the valid routine still has its layout and msgh_id (partial lowering).
  before = #published
  vim.api.nvim_buf_set_lines(buf, -1, -1, false, { 'routine pong(server : port_t; value : nope_t);' })
  if not vim.wait(20000, function()
    return #published > before and #published[#published].diagnostics == 1
  end, 20) then
    error('no diagnostic for the broken routine')
  end
  for _, d in ipairs(published[#published].diagnostics) do
    log('partial diagnostic line ' .. d.range.start.line .. ' ' .. d.message:gsub('\n.*', ''))
  end
  responses = vim.lsp.buf_request_sync(buf, 'textDocument/hover', params, 10000)
  hover = responses and responses[client_id] and responses[client_id].result
  if not hover then
    error('no hover in the file with a broken routine')
  end
  for l in hover.contents.value:gmatch('[^\n]+') do
    if l:find('msgh_id') then
      log('partial hover ' .. l)
    end
  end

  -- 5. Shut the server down and wait for it to exit.
  vim.lsp.get_client_by_id(client_id).stop()
  if not vim.wait(20000, function() return exit_code ~= nil end, 20) then
    error('server did not exit')
  end
end)

if ok then
  finish('DONE')
else
  finish('FAILED: ' .. tostring(err))
end
