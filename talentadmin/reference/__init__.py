"""Reference lists the office maintains: districts, fields, qualifications, conditions, …"""
