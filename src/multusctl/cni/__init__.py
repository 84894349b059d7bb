"""Running CNI plugins as libcni does: one plugin call (`exec`), VERSION queries, conflist chains with
prevResult and runtimeConfig (`chain`), and a throwaway network namespace that is always removed (`sandbox`).

Shared by `multusctl nad validate` (VERSION) and `multusctl nad test` (ADD, CHECK, DEL).
"""
