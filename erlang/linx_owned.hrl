%% ?OWNED(Result): `Result' as the public function it is written in
%% returns it, its error (if any) owned: the error names this module as
%% its renderer and that function as the one called (see
%% linx_error:owned/3). Every public function of linx_sysctl,
%% linx_netlink, linx_nl, linx_rtnl, linx_genl and linx_netns returns
%% through it.
-define(OWNED(Result), linx_error:owned(?MODULE, ?FUNCTION_NAME, Result)).
