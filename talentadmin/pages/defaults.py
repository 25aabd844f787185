"""The texts a new installation starts with (the office edits them in the admin)."""

DEFAULT_PAGES = [
    {
        "key": "policy_basis",
        "title_zh": "政策依据",
        "body_zh": (
            "依据北京市及朝阳区人才引进工作有关规定，区委人才办组织开展年度引进人才需求申报。\n"
            "人才引进需求申报仅支持单位填报，不支持个人填报。"
        ),
        "title_en": "Policy basis",
        "body_en": (
            "Under the talent-introduction rules of Beijing and of the district, the district "
            "talent office runs the yearly declaration of talent-introduction demand.\n"
            "Only units may declare; individuals cannot."
        ),
    },
    {
        "key": "conditions",
        "title_zh": "办理条件",
        "body_zh": (
            "1. 申报单位已完成单位认证（上传清晰版营业执照）。\n"
            "2. 单位资质须有相关证明材料，如高新技术企业、专精特新企业、跨国公司地区总部、"
            "外商投资企业、服务包企业须上传相应证书等材料。\n"
            "3. 申报人须符合所选“引进依据及条件”，并提供佐证材料。"
        ),
        "title_en": "Conditions",
        "body_en": (
            "1. The unit has completed unit certification (a clear business licence uploaded).\n"
            "2. Each unit qualification needs its evidence: high-tech enterprises, specialised "
            "SMEs, regional headquarters of multinationals, foreign-invested enterprises and "
            "service-package enterprises upload the corresponding certificates.\n"
            "3. Each person declared meets the chosen basis and condition and has the evidence."
        ),
    },
    {
        "key": "process",
        "title_zh": "办理流程",
        "body_zh": (
            "注册登录 → 单位认证 → 申请开通业务权限（工作人员审核）→ 新增申报、填报个人信息 → "
            "需求信息初审 → 区委人才办复审 → 已完成（区级审核通过）→ 报市人才工作局研究审批。"
        ),
        "title_en": "Process",
        "body_en": (
            "Register and log in → certify the unit → apply for the business permission "
            "(reviewed by staff) → add declarations with personal data → initial review → "
            "second review by the district talent office → completed (approved by the "
            "district) → submitted to the municipal talent bureau for decision."
        ),
    },
    {
        "key": "report_notice",
        "title_zh": "后续流程通知",
        "body_zh": (
            "您单位申报的人才已通过区级复审，名单已报市人才工作局。市人才工作局按程序确定拟引进"
            "人才名单后，区委人才办将通知并指导您单位填报北京市“人才业务办理平台”，请申报单位和"
            "个人配合做好材料提报及审核工作。"
        ),
        "title_en": "Next step notice",
        "body_en": (
            "The people your unit declared passed the district's second review and the list was "
            "sent to the municipal talent bureau. Once the bureau settles the list, the district "
            "talent office will guide your unit to fill in the Beijing talent business platform; "
            "please get the materials ready."
        ),
    },
    {
        "key": "support",
        "title_zh": "技术支持",
        "body_zh": "技术支持：84296151\n系统问题请申请单位指派一名具体负责同志统一对接。",
        "title_en": "Technical support",
        "body_en": (
            "Technical support: 84296151\n"
            "For system problems, each unit should name one person as the single contact."
        ),
    },
    {
        # The 诚信声明 the portal prints and offers as a PDF: {unit}, {name}, {id_number}
        # and {round} are filled in when known (blank lines to write on otherwise).
        "key": "integrity_statement",
        "title_zh": "诚信声明",
        "body_zh": (
            "本单位{unit}郑重声明：\n"
            "本单位在{round}中，为申报人{name}（身份证号：{id_number}）所提交的个人信息、"
            "社会保险缴费记录及全部附件材料均真实、准确、完整，不存在任何虚假、隐瞒或误导的情形。\n"
            "本单位已如实核对申报人的任职及缴纳社会保险情况，申报人符合所选“引进依据及条件”。\n"
            "如有虚假，本单位及申报人愿承担由此产生的一切后果，并接受有关部门依法依规作出的处理。"
        ),
        "title_en": "Integrity statement",
        "body_en": (
            "We, {unit}, solemnly declare:\n"
            "In {round}, the personal data, social insurance records and all attachments we "
            "submitted for the applicant {name} (ID number: {id_number}) are true, accurate and "
            "complete, with nothing false, concealed or misleading.\n"
            "We have checked the applicant's employment and social insurance payments; the "
            "applicant meets the chosen basis and condition of introduction.\n"
            "Should anything prove false, the unit and the applicant bear all consequences and "
            "accept the measures the authorities take under the law and the rules."
        ),
    },
    {
        "key": "faq",
        "title_zh": "常见问题",
        "body_zh": (
            "问：个人可以申报吗？\n"
            "答：不可以。人才引进需求申报仅支持单位填报，不支持个人填报。\n\n"
            "问：认证时应选择哪一项？\n"
            "答：应选择“单位认证”，不能选择“人才认证”，否则无法进入后续环节。\n\n"
            "问：营业执照识别的信息有误怎么办？\n"
            "答：可在提交前手动调整单位名称和统一社会信用代码，修改后的认证由工作人员审核。\n\n"
            "问：经办人变了怎么办？\n"
            "答：请登录后在账户页及时更换注册手机号码。\n\n"
            "问：在旧版“朝阳国际人才港”申报过，还要重新开通吗？\n"
            "答：申报过的个人信息将被保留，但业务权限应按操作指南再次开通。\n\n"
            "问：上传的附件如何命名？\n"
            "答：按“XX单位-姓名-材料名称”格式命名。\n\n"
            "问：申报未通过怎么办？\n"
            "答：查看未通过原因，修改后点击“重新申请”再次提交。"
        ),
        "title_en": "Frequently asked questions",
        "body_en": (
            "Q: Can an individual declare?\n"
            "A: No. Only units declare talent-introduction demand; individuals cannot.\n\n"
            "Q: Which certification do we choose?\n"
            "A: Unit certification, not personal certification: only it opens the next steps.\n\n"
            "Q: The name or code read from the licence is wrong. What now?\n"
            "A: Correct it before submitting; a corrected certification is reviewed by staff.\n\n"
            "Q: Our contact person changed. What now?\n"
            "A: Log in and change the registered mobile number on the account page.\n\n"
            "Q: We declared in the old system. Must we open the business again?\n"
            "A: The personal data declared there is kept, but the business permission must be "
            "opened again as the operation guide describes.\n\n"
            "Q: How are attachments named?\n"
            "A: Unit-name-document, e.g. \"Example Ltd-Zhang San-Social insurance record\".\n\n"
            "Q: A declaration was not approved. What now?\n"
            "A: Read the reason, correct the declaration and submit it again."
        ),
    },
    # The footer: each shown only when its text is not empty (the title is its label).
    {
        "key": "sponsor",
        "title_zh": "主办单位",
        "body_zh": "中共北京市朝阳区委人才工作领导小组办公室",
        "title_en": "Sponsor",
        "body_en": "Talent Work Office of the CPC Chaoyang District Committee, Beijing",
    },
    {
        "key": "site_code",
        "title_zh": "网站标识码",
        "body_zh": "",
        "title_en": "Website identification code",
        "body_en": "",
    },
    {
        "key": "icp_record",
        "title_zh": "ICP备案号",
        "body_zh": "",
        "title_en": "ICP record",
        "body_en": "",
    },
    {
        "key": "police_record",
        "title_zh": "公网安备案号",
        "body_zh": "",
        "title_en": "Public security record",
        "body_en": "",
    },
]

# The demo's notice and policy document (``flask seed --demo``), dated the day it runs.
DEMO_ITEMS = [
    {
        "kind": "notice",
        "title_zh": "关于开展{round}工作的通知",
        "body_zh": (
            "各有关单位：\n"
            "{round}现已开始。请经办人注册登录后完成单位认证，申请开通业务权限，经工作人员审核"
            "通过后新增申报、填报个人信息并上传附件。申报信息经需求信息初审、区委人才办复审后，"
            "由区委人才办按程序报市人才工作局。\n"
            "具体操作请下载首页“操作指南”。技术支持：84296151。"
        ),
        "title_en": "Notice on {round}",
        "body_en": (
            "To all units:\n"
            "{round} is open. Register and log in, certify your unit and apply for the business "
            "permission; once staff approve it, add declarations with each person's data and "
            "attachments. Declarations pass an initial review and the district talent office's "
            "second review before the office submits them to the municipal talent bureau.\n"
            "Download the operation guide on the home page for the steps. Technical support: "
            "84296151."
        ),
    },
    {
        "kind": "policy",
        "title_zh": "人才引进需求申报单位信息填报注意事项",
        "body_zh": (
            "1、人才引进需求申报仅支持单位填报，不支持个人填报。\n"
            "2、单位资质填写时需要有相关企业资质证明，如：高新技术企业、专精特新企业、跨国公司"
            "地区总部、外商投资企业、服务包企业须上传相应证书等材料。\n"
            "3、首次开通权限后，可直接填写其他申报人信息并提交。\n"
            "4、为保证后续顺利登录，请保持注册手机号稳定、畅通。\n"
            "5、需求申报及审核中需要用人单位积极做好配合工作，及时沟通，杜绝提供各类虚假性信息。"
        ),
        "title_en": "Notes for units filling in the declaration",
        "body_en": (
            "1. Only units declare talent-introduction demand; individuals cannot.\n"
            "2. Each unit qualification needs its evidence: high-tech enterprises, specialised "
            "SMEs, regional headquarters of multinationals, foreign-invested enterprises and "
            "service-package enterprises upload the corresponding certificates.\n"
            "3. Once the business permission is open, further people can be declared directly.\n"
            "4. Keep the registered mobile number stable so that you can keep logging in.\n"
            "5. Work with the office during declaration and review; provide nothing false."
        ),
    },
]
