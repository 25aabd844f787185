"""The lists a new installation starts with; the office edits them in the admin.

Each entry: (code, name_zh, name_en[, evidence_zh, evidence_en]). An entry with evidence
needs it uploaded when chosen.
"""

DISTRICTS = [
    ("dongcheng", "东城区", "Dongcheng"), ("xicheng", "西城区", "Xicheng"),
    ("chaoyang", "朝阳区", "Chaoyang"), ("haidian", "海淀区", "Haidian"),
    ("fengtai", "丰台区", "Fengtai"), ("shijingshan", "石景山区", "Shijingshan"),
    ("mentougou", "门头沟区", "Mentougou"), ("fangshan", "房山区", "Fangshan"),
    ("tongzhou", "通州区", "Tongzhou"), ("shunyi", "顺义区", "Shunyi"),
    ("changping", "昌平区", "Changping"), ("daxing", "大兴区", "Daxing"),
    ("huairou", "怀柔区", "Huairou"), ("pinggu", "平谷区", "Pinggu"),
    ("miyun", "密云区", "Miyun"), ("yanqing", "延庆区", "Yanqing"),
]

FIELDS = [
    ("it", "新一代信息技术", "Next-generation information technology"),
    ("ai", "人工智能", "Artificial intelligence"),
    ("ic", "集成电路", "Integrated circuits"),
    ("health", "医药健康", "Medicine and health"),
    ("equipment", "智能装备", "Intelligent equipment"),
    ("energy", "新能源与节能环保", "New energy and environmental protection"),
    ("materials", "新材料", "New materials"),
    ("finance", "金融", "Finance"),
    ("business", "商务服务", "Business services"),
    ("culture", "文化创意", "Culture and creative industries"),
    ("science", "科技服务", "Science and technology services"),
    ("other", "其他", "Other"),
]

QUALIFICATIONS = [
    ("hightech", "高新技术企业", "High-tech enterprise",
     "高新技术企业证书", "High-tech enterprise certificate"),
    ("specialised", "专精特新企业", "Specialised and innovative SME",
     "专精特新企业认定文件", "Specialised and innovative SME recognition"),
    ("headquarters", "跨国公司地区总部", "Regional headquarters of a multinational",
     "跨国公司地区总部认定文件", "Regional headquarters recognition"),
    ("foreign", "外商投资企业", "Foreign-invested enterprise",
     "外商投资企业批准证书或备案回执", "Foreign investment approval or filing receipt"),
    ("service_package", "服务包企业", "Service-package enterprise",
     "服务包企业证明材料", "Service-package enterprise proof"),
    ("other", "其他", "Other"),
]

CONDITIONS = [
    ("patent", "拥有发明专利（专利条款）", "Holds invention patents (patent clause)",
     "相应数量的发明专利证书", "The invention patent certificates"),
    ("financing", "企业获得股权融资（融资条款）",
     "The enterprise raised equity financing (financing clause)",
     "验资报告、公司章程等材料", "Capital verification report and articles of association"),
    ("tax", "企业纳税贡献（纳税条款）", "Tax contribution of the enterprise (tax clause)",
     "企业近三年纳税证明", "Tax payment certificates of the last three years"),
    ("doctorate", "具有博士学位", "Holds a doctorate",
     "学历、学位证书及学信网认证报告", "Diploma, degree certificate and verification report"),
    ("senior_title", "具有高级专业技术职称", "Holds a senior professional title",
     "职称证书", "The title certificate"),
    ("award", "获得省部级以上奖项", "Won a provincial or national award",
     "获奖证书", "The award certificate"),
    ("key_staff", "企业高级管理人员或核心技术人员", "Senior manager or key technical staff",
     "劳动合同及任职文件", "Labour contract and appointment documents"),
    ("other", "其他符合政策规定的情形", "Other cases the policy provides for",
     "相关证明材料", "The supporting documents"),
]

POLITICAL_STATUS = [  # GB/T 4762
    ("01", "中共党员", "CPC member"), ("02", "中共预备党员", "CPC probationary member"),
    ("03", "共青团员", "CYL member"), ("04", "民革党员", "RCCK member"),
    ("05", "民盟盟员", "CDL member"), ("06", "民建会员", "CNDCA member"),
    ("07", "民进会员", "CAPD member"), ("08", "农工党党员", "CPWDP member"),
    ("09", "致公党党员", "CZGP member"), ("10", "九三学社社员", "JS member"),
    ("11", "台盟盟员", "TDSGL member"), ("12", "无党派人士", "Non-party personage"),
    ("13", "群众", "Ordinary citizen"),
]

EDUCATION = [  # GB/T 4658
    ("10", "研究生（博士）", "Postgraduate (doctorate)"),
    ("11", "研究生（硕士）", "Postgraduate (master)"),
    ("20", "大学本科", "Undergraduate"),
    ("30", "大学专科", "Junior college"),
    ("40", "中等专科", "Technical secondary school"),
    ("60", "高中", "Senior high school"),
    ("90", "其他", "Other"),
]

DEGREES = [  # GB/T 6864
    ("2", "博士", "Doctorate"), ("3", "硕士", "Master"), ("4", "学士", "Bachelor"),
    ("0", "无", "None"),
]

DEFAULTS = {
    "district": DISTRICTS,
    "field": FIELDS,
    "qualification": QUALIFICATIONS,
    "condition": CONDITIONS,
    "political_status": POLITICAL_STATUS,
    "education": EDUCATION,
    "degree": DEGREES,
}

REASON_TEMPLATES = [
    "附件材料不完整，请补充上传后重新提交。",
    "《北京市社会保险个人权益记录》未覆盖2020年1月至今，请重新下载上传。",
    "《诚信声明》缺少法人签字或单位公章。",
    "所选“引进依据及条件”的佐证材料不足。",
    "个人信息与附件材料不一致，请核对。",
]
