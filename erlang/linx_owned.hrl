%% The result of the public function this stands in, its error (if any)
%% owned: the error names this module as its renderer and this function as
%% the one called (see linx_error:owned/3). Every public function of
%% linx_sysctl, linx_netlink, linx_nl, linx_rtnl, linx_genl and linx_netns
%% returns through it.
-define(OWNED(Result), linx_error:owned(?MODULE, ?FUNCTION_NAME, Result)).
