" MIG interface definitions (.defs) and the .srv/.cli files some trees generate from them.
autocmd BufRead,BufNewFile *.defs,*.srv,*.cli setfiletype mig
