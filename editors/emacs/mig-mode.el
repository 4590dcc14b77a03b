;;; mig-mode.el --- Major mode for MIG .defs files, with eglot and mig-lsp  -*- lexical-binding: t; -*-

;;; Commentary:
;; A small mode for Mach Interface Generator definitions: C-style comments, keywords
;; highlighted (semantic highlighting comes from mig-lsp), and eglot set up to start
;; `mig-lsp'.  Load it with (require 'mig-mode) after adding this directory to `load-path'.

;;; Code:

(defvar mig-mode-syntax-table
  (let ((st (make-syntax-table)))
    (modify-syntax-entry ?_ "_" st)
    (modify-syntax-entry ?/ ". 124b" st)
    (modify-syntax-entry ?* ". 23" st)
    (modify-syntax-entry ?\n "> b" st)
    st)
  "Syntax table of `mig-mode'.")

(defconst mig-mode-keywords
  '("subsystem" "routine" "simpleroutine" "procedure" "simpleprocedure" "function"
    "skip" "type" "import" "uimport" "simport" "rcsid" "msgoption" "waittime"
    "nowaittime" "serverprefix" "userprefix" "serverdemux" "error" "in" "out" "inout"
    "requestport" "replyport" "sreplyport" "ureplyport" "msgseqno" "array" "of"
    "struct" "c_string" "polymorphic" "ctype" "cusertype" "cservertype" "intran"
    "outtran" "destructor" "intranpayload" "dealloc" "notdealloc" "servercopy"
    "countinout" "KernelUser" "KernelServer")
  "MIG keywords (matched ignoring case).")

(define-derived-mode mig-mode prog-mode "MIG"
  "Major mode for MIG interface definitions."
  (setq-local comment-start "/* ")
  (setq-local comment-end " */")
  (setq-local font-lock-defaults
              `(((,(regexp-opt mig-mode-keywords 'words) . font-lock-keyword-face)
                 ("^\\s-*#\\s-*[a-z]+" . font-lock-preprocessor-face))
                nil t)))

;;;###autoload
(add-to-list 'auto-mode-alist '("\\.\\(defs\\|srv\\|cli\\)\\'" . mig-mode))

(with-eval-after-load 'eglot
  (add-to-list 'eglot-server-programs '(mig-mode . ("mig-lsp"))))

(provide 'mig-mode)
;;; mig-mode.el ends here
