from talentadmin import create_app

app = create_app()
