%% Netlink constants (linux/netlink.h, linux/rtnetlink.h), shared by
%% linx_nl, linx_rtnl and linx_genl.

-define(NLMSG_NOOP, 1).
-define(NLMSG_ERROR, 2).
-define(NLMSG_DONE, 3).

-define(NLM_F_REQUEST, 16#001).
-define(NLM_F_MULTI, 16#002).
-define(NLM_F_ACK, 16#004).
-define(NLM_F_ECHO, 16#008).
-define(NLM_F_DUMP_INTR, 16#010).
-define(NLM_F_DUMP, 16#300).
-define(NLM_F_REPLACE, 16#100).
-define(NLM_F_EXCL, 16#200).
-define(NLM_F_CREATE, 16#400).
-define(NLM_F_APPEND, 16#800).
%% Flags of an NLMSG_ERROR message.
-define(NLM_F_CAPPED, 16#100).
-define(NLM_F_ACK_TLVS, 16#200).

-define(NLA_F_NESTED, 16#8000).
-define(NLA_F_NET_BYTEORDER, 16#4000).
-define(NLA_TYPE_MASK, 16#3fff).

-define(NLMSGERR_ATTR_MSG, 1).
-define(NLMSGERR_ATTR_OFFS, 2).
-define(NLMSGERR_ATTR_MISS_TYPE, 5).

-define(SOL_NETLINK, 270).
-define(NETLINK_EXT_ACK, 11).
