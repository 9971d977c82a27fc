/* valid.c: placeholder, being written */
