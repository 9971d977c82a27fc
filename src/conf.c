/* conf.c: placeholder, being written */
