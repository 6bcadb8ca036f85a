"""The Textual interface: ``mockint start``, ``resume`` and ``review``.

It talks only to interview/, store/ and the grader; nothing here touches SQL.
"""
