/* callback.c: placeholder, being written */
