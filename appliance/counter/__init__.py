"""The counter unit: a clerk's call buttons, the citizen's feedback box and
the counter's LED number display, joined to the master over the bus."""
